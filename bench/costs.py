"""Per-core costs of Haven's units of work, for the capacity model (docs/scaling.md): one upload
(hash + screen + store), one batch of 1,000 hash look-ups, one message, one no-op job, each on
one thread in one process against SQLite (median of `--repeats` timings of `--n` calls).
HTTP parsing is not included (uvicorn adds ~1 ms a request); matching is against an empty index
(matching's own cost at 10M hashes is in docs/matching.md: 0.39 ms p50 a query).

Run: .venv/bin/python bench/costs.py [--n 200]. Prints figures, ends with `RESULT {json}`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from haven.banks.matcher import Matcher
from haven.classify.conversation import detector_for
from haven.core import jobs
from haven.core.auth import create_integration
from haven.core.db import Database
from haven.core.migrate import upgrade
from haven.core.settings import Settings
from haven.intake import service
from haven.intake.messages import MessageIn, record_message
from haven.intake.schemas import ContentMetadata
from haven.screening.signals import compute_signals
from haven.signals.stand_ins import synthetic_picture


def _jpeg(seed: int) -> bytes:
    buf = io.BytesIO()
    synthetic_picture(seed, (1024, 768)).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def timed(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - t) / n * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'haven.db'}"
    upgrade(url)
    settings = Settings(var_dir=tmp / "var", database_url=url, inline_worker=False, classifiers={"*": []})
    db = Database(url)
    with db.session() as s:
        integ, _ = create_integration(s, "bench", ["intake"])
    matcher = Matcher()
    detector = detector_for(settings)
    pictures = [_jpeg(i) for i in range(20)]

    def upload(i: int) -> None:
        data = pictures[i % len(pictures)]
        sig = compute_signals(data, settings, "upload", classify=False)
        with db.session() as s:
            service.record_content(
                s,
                settings,
                matcher,
                integration_id=integ.id,
                actor="integration:x",
                data=data,
                signals=sig,
                meta=ContentMetadata(uploader=f"u{i}"),
            )

    hashes = [("md5", f"{i:032x}", None) for i in range(1000)]

    def lookup(i: int) -> None:
        with db.session() as s:
            service.lookup(s, settings, matcher, integration_id=integ.id, queries=hashes)

    def message(i: int) -> None:
        body = MessageIn(
            conversation_id=f"c{i % 50}",
            sender=f"a{i % 100}",
            recipients=[f"a{(i + 1) % 100}"],
            text=f"see you at practice {i}",
            message_id=f"m{time.time_ns()}",
        )
        with db.session() as s:
            record_message(s, detector, integration_id=integ.id, actor="integration:x", body=body)

    jobs.HANDLERS["bench.noop"] = lambda _db, _job: None

    def job(i: int) -> None:
        with db.session() as s:
            jobs.enqueue(s, "bench.noop")
        claimed = jobs.claim_next(db, "bench", kinds=["bench.noop"])
        assert claimed is not None
        jobs.run_job(db, claimed)

    results = {}
    for name, fn, n in (
        ("upload", upload, args.n // 4),
        ("lookup_1000", lookup, max(5, args.n // 20)),
        ("message", message, args.n),
        ("job", job, args.n),
    ):
        fn(0)
        ms = statistics.median(timed(fn, n) for _ in range(args.repeats))
        results[name] = round(ms, 2)
        print(f"{name:12s} {ms:8.2f} ms per unit per core")
    db.dispose()
    print("RESULT " + json.dumps({"ms_per_unit": results, "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
