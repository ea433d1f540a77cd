"""Reporting benchmark: building and validating CyberTipline XML, and a case from queue to a
finished report against the local double on loopback (SQLite, real HTTP).

    .venv/bin/python bench/report.py [--cases 10]

Prints medians and ends with one line `RESULT {json}`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.cybertip.fixtures: the benign stand-ins

from haven.core.actors import Actor
from haven.cybertip.xml import FileData, IpEvent, PersonInfo, ReportData, build_file_details, build_report, validate


def bench_xml(rounds: int) -> float:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        xml = build_report(
            ReportData(
                incident_type="Child Pornography (possession, manufacture, and distribution)",
                incident_at=t0,
                reporter_email="ts@example.org",
                reported=PersonInfo(esp_identifier="u1", ip_events=[IpEvent("203.0.113.1", "Upload", t0)] * 5),
                recipients=[PersonInfo(esp_identifier=f"r{i}") for i in range(3)],
            )
        )
        validate(xml)
        for i in range(10):
            validate(
                build_file_details(
                    FileData("1", f"{i:032x}", hashes=[("MD5", "0" * 32), ("SHA256", "0" * 64)], classification="A1")
                )
            )
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def bench_submit(n_cases: int) -> dict[str, float]:
    import os

    from sqlalchemy import select
    from tests.conftest import free_port
    from tests.cybertip.fixtures import decide, make_item

    from haven.core.db import Database
    from haven.core.migrate import upgrade
    from haven.core.settings import Settings, get_settings
    from haven.cybertip import cases, machine
    from haven.cybertip.config import cybertip_settings
    from haven.cybertip.double import create_double
    from haven.cybertip.models import ReportCase
    from haven.worker import load_handlers

    tmp = Path(tempfile.mkdtemp(prefix="haven-bench-report-"))
    url = f"sqlite:///{tmp / 'haven.db'}"
    upgrade(url)
    settings = Settings(var_dir=tmp / "var", database_url=url, inline_worker=False)
    port = free_port()
    app = create_double("bench", "bench-pw")
    srv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off")
    )
    threading.Thread(target=srv.run, daemon=True).start()
    while not srv.started:
        time.sleep(0.02)
    os.environ.update(
        {
            "HAVEN_VAR_DIR": str(settings.var_dir),
            "HAVEN_CYBERTIP_URL": f"http://127.0.0.1:{port}/ispws",
            "HAVEN_CYBERTIP_USERNAME": "bench",
            "HAVEN_CYBERTIP_PASSWORD": "bench-pw",
            "HAVEN_CYBERTIP_REPORTER_EMAIL": "ts@example.org",
        }
    )
    get_settings.cache_clear()
    load_handlers()
    db = Database(url)
    legal = Actor("staff", "bench", frozenset({"legal"}))
    from haven.core import jobs

    times = []
    for i in range(n_cases):
        with db.session() as s:
            a, b = make_item(s, settings, 1000 + 2 * i), make_item(s, settings, 1001 + 2 * i)
            decide(s, [a.id, b.id])
        jobs.work(db, once=True)
        with db.session() as s:
            case_id = s.scalars(select(ReportCase.id).order_by(ReportCase.created_at.desc())).first()
            assert case_id
            cases.queue_submission(s, settings, case_id, legal, cybertip_settings())
        start = time.perf_counter()
        status = machine.advance(db, case_id)
        times.append(time.perf_counter() - start)
        assert status == "finished", status
    srv.should_exit = True
    return {"queue_to_finished_ms_median": statistics.median(times) * 1000, "cases": n_cases}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--cases", type=int, default=10)
    p.add_argument("--rounds", type=int, default=200)
    args = p.parse_args()
    xml_ms = bench_xml(args.rounds)
    print(f"build + validate one report and 10 fileDetails: median {xml_ms:.2f} ms ({args.rounds} rounds)")
    sub = bench_submit(args.cases)
    ms = sub["queue_to_finished_ms_median"]
    print(
        f"queue -> finished, 2 files (6 requests) against the double: median {ms:.0f} ms ({args.cases} cases, SQLite)"
    )
    print(
        "RESULT "
        + json.dumps({"xml_build_validate_ms_median": round(xml_ms, 3), **{k: round(v, 1) for k, v in sub.items()}})
    )


if __name__ == "__main__":
    main()
