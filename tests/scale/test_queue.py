"""The job queue on PostgreSQL: SKIP LOCKED claims that never wait on another worker's row, and
LISTEN/NOTIFY wake-ups; SQLite keeps the conditional UPDATE."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from haven.core import jobs
from haven.core.clock import now
from haven.core.db import Database
from haven.core.models import Job

RAN: list[str] = []


@jobs.handler("test.scale_record")
def _record(db: Database, job: Job) -> None:
    RAN.append(job.payload["n"])


def _enqueue(db: Database, n: str, *, age: float = 0.0) -> str:
    with db.session() as s:
        job = jobs.enqueue(s, "test.scale_record", {"n": n})
        assert job is not None
        job.run_at = now() - timedelta(seconds=age)
        return job.id


def test_a_claim_skips_a_row_another_worker_holds(db: Database, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises writers and keeps the conditional UPDATE")
    oldest = _enqueue(db, "a", age=10)
    second = _enqueue(db, "b", age=5)
    with db.session() as holder:  # another worker's open claim transaction on the oldest row
        held = holder.scalar(select(Job).where(Job.id == oldest).with_for_update())
        assert held is not None
        started = time.monotonic()
        job = jobs.claim_next(db, "w2", kinds=["test.scale_record"])
        waited = time.monotonic() - started
        assert job is not None and job.id == second and waited < 1.0
        assert jobs.claim_next(db, "w3", kinds=["test.scale_record"]) is None  # a held row is not ready to others
    again = jobs.claim_next(db, "w4", kinds=["test.scale_record"])
    assert again is not None and again.id == oldest and again.attempts == 1


def test_an_idle_worker_wakes_on_notify_not_on_its_poll(db: Database, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    RAN.clear()
    stop = threading.Event()
    # idle_sleep 2 s -> the fallback poll is 5 s: a job run within a second was woken by NOTIFY.
    t = threading.Thread(target=jobs.work, kwargs={"db": db, "idle_sleep": 2.0, "stop": stop.is_set}, daemon=True)
    t.start()
    time.sleep(0.8)  # the worker found nothing and is waiting
    started = time.monotonic()
    _enqueue(db, "woken")
    while "woken" not in RAN and time.monotonic() - started < 6:
        time.sleep(0.02)
    latency = time.monotonic() - started
    stop.set()
    t.join(timeout=5)
    assert RAN == ["woken"] and latency < 1.0, latency


def test_a_rolled_back_enqueue_neither_queues_nor_wakes(db: Database, backend: str) -> None:
    waiter = jobs.JobWaiter(db)
    try:
        if backend == "postgres":
            waiter.wait(0.05)  # LISTEN before the enqueue
        with pytest.raises(RuntimeError), db.session() as s:
            jobs.enqueue(s, "test.scale_record", {"n": "never"})
            raise RuntimeError("roll back")
        woke = waiter.wait(0.3)
    finally:
        waiter.close()
    assert not woke
    with db.session() as s:
        assert s.scalar(select(Job).where(Job.kind == "test.scale_record")) is None
