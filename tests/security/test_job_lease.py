"""Issue 19 item 9 (job leases): a delivery whose worker was killed is retaken within a minute,
not after 300 s; a long job keeps its lease while its worker lives (heartbeat)."""

from __future__ import annotations

import threading
import time

from haven.core import jobs
from haven.core.clock import now
from haven.core.db import Database
from haven.core.models import Job
from haven.enforce import webhooks


def test_a_killed_workers_delivery_is_retaken_within_a_minute(db: Database) -> None:
    with db.session() as s:
        webhooks.deliver(s, "tos.updated", {"version": "1"}, subject_type="terms", subject_id="1", actor="cli")
    job = jobs.claim_next(db, "doomed-worker", kinds=[webhooks.JOB_KIND])  # ... and the worker dies here
    assert job is not None and job.locked_until is not None
    held = (job.locked_until - now()).total_seconds()
    assert 0 < held <= 61, held


def test_heartbeat_keeps_a_long_job_and_releases_it_when_done(db: Database) -> None:
    kind = "test.slow_job"
    started = threading.Event()

    @jobs.handler(kind, lease_seconds=0.6)
    def _slow(db: Database, job: Job) -> None:
        started.set()
        time.sleep(2.0)  # more than three leases

    try:
        with db.session() as s:
            jobs.enqueue(s, kind, {})
        first = jobs.claim_next(db, "worker-a", kinds=[kind])
        assert first is not None
        runner = threading.Thread(target=jobs.run_job, args=(db, first))
        runner.start()
        assert started.wait(5)
        stolen = []
        deadline = time.monotonic() + 1.6
        while time.monotonic() < deadline:  # a live worker's job is never retaken
            got = jobs.claim_next(db, "worker-b", kinds=[kind])
            if got is not None:
                stolen.append(got)
            time.sleep(0.1)
        runner.join(timeout=10)
        assert stolen == []
        with db.session() as s:
            row = s.get(Job, first.id)
            assert row is not None and row.status == "done" and row.attempts == 1
    finally:
        jobs.HANDLERS.pop(kind, None)
        jobs.LEASES.pop(kind, None)
