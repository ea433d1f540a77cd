"""Benchmark of the job queue on PostgreSQL: jobs/s with 1, 2 and 4 worker processes, for the
SKIP LOCKED claim (the PostgreSQL default) and the conditional UPDATE claim (SQLite's, and
PostgreSQL's before), each job a small idempotent write (an UPSERT of a counter row).

Run: PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/jobs.py
[--jobs 3000]. Makes and drops its own database. Prints figures, ends with `RESULT {json}`.
The machine is shared (2 cores): worker processes beyond the cores measure contention, not speed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time
import uuid
from typing import Any

import psycopg
from sqlalchemy import text

from haven.core import jobs
from haven.core.db import Database
from haven.core.migrate import upgrade
from haven.core.models import Job

KIND = "bench.touch"


def _touch(db: Database, job: Job) -> None:
    with db.session() as s:  # idempotent: the same job run twice leaves the same row
        s.execute(
            text("INSERT INTO counters (name, value) VALUES (:n, 1) ON CONFLICT (name) DO UPDATE SET value = 1"),
            {"n": f"bench:{job.payload['i']}"},
        )


def _worker(url: str, method: str, start: Any, done: Any) -> None:
    jobs.HANDLERS[KIND] = _touch
    claim = jobs.claim_skip_locked if method == "skip_locked" else jobs.claim_conditional
    db = Database(url)
    name = f"bench:{os.getpid()}"
    start.wait()
    ran = 0
    while (job := claim(db, name, kinds=[KIND])) is not None:
        jobs.run_job(db, job)
        ran += 1
    done.put(ran)
    db.dispose()


def run(url: str, n: int, workers: int, method: str) -> float:
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM jobs"))
        conn.execute(text("DELETE FROM counters WHERE name LIKE 'bench:%'"))
    with db.session() as s:
        for i in range(n):
            jobs.enqueue(s, KIND, {"i": i})
    db.dispose()
    ctx = mp.get_context("fork")
    start, done = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, method, start, done)) for _ in range(workers)]
    for p in procs:
        p.start()
    time.sleep(1.0)  # imports and connections done before the clock starts
    t0 = time.perf_counter()
    start.set()
    ran = sum(done.get() for _ in procs)
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join()
    assert ran == n, (ran, n)
    check = Database(url)
    with check.engine.connect() as conn:
        undone = conn.execute(text("SELECT count(*) FROM jobs WHERE status <> 'done'")).scalar()
    check.dispose()
    assert undone == 0
    return n / elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    args = ap.parse_args()
    admin_url = os.environ.get("PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    admin = admin_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"haven_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    results: dict[str, dict[int, float]] = {}
    try:
        upgrade(url)
        # Interleaved, so that the shared machine's load falls on both methods alike.
        for w in [int(x) for x in args.workers.split(",")]:
            for method in ("skip_locked", "conditional"):
                best = max(run(url, args.jobs, w, method) for _ in range(args.repeats))
                results.setdefault(method, {})[w] = round(best, 1)
                print(f"{method:12s} workers={w}: {best:7.1f} jobs/s")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    print("RESULT " + json.dumps({"jobs": args.jobs, "jobs_per_second": results, "cores": os.cpu_count()}))


if __name__ == "__main__":
    main()
