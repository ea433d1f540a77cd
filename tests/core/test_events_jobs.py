"""The job queue and ledger subscriptions on the real database."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from haven.core import events, jobs
from haven.core.db import Database
from haven.core.ledger import SUBSCRIBERS, record_event, subscribe
from haven.core.models import Event, Job

SEEN: list[str] = []


@subscribe("test.thing_happened", name="test-recorder")
def _recorder(session, event: Event) -> None:  # type: ignore[no-untyped-def]
    SEEN.append(event.subject_id)


def test_subscribers_get_committed_events_once(db: Database) -> None:
    SEEN.clear()
    with events.declared("test.thing_happened", "thing"):
        with db.session() as s:
            record_event(s, "test.thing_happened", subject_type="thing", subject_id="t1", actor="system:test")
        try:
            with db.session() as s:
                record_event(s, "test.thing_happened", subject_type="thing", subject_id="t2", actor="system:test")
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert "test-recorder" in SUBSCRIBERS["test.thing_happened"]
    assert jobs.work(db, once=True) == 1
    assert SEEN == ["t1"]
    assert jobs.work(db, once=True) == 0


def test_concurrent_claims_never_share_a_job(db: Database) -> None:
    with db.session() as s:
        for i in range(40):
            jobs.enqueue(s, "test.noop", {"i": i})
    claimed: list[str] = []
    lock = threading.Lock()

    def claimer() -> None:
        while (job := jobs.claim_next(db, threading.current_thread().name)) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=claimer, name=f"w{i}") for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == 40 and len(set(claimed)) == 40


def test_failing_handler_is_retried_with_backoff_then_dead(db: Database) -> None:
    calls: list[int] = []

    @jobs.handler("test.flaky")
    def flaky(_db: Database, job: Job) -> None:
        calls.append(job.attempts)
        raise ValueError("receiver down")

    with db.session() as s:
        job = jobs.enqueue(s, "test.flaky", max_attempts=2)
        assert job is not None
        job_id = job.id
    first = jobs.claim_next(db, "w")
    assert first is not None and jobs.run_job(db, first) == "queued"
    with db.session() as s:
        row = s.get(Job, job_id)
        assert row is not None and row.last_error and "receiver down" in row.last_error
        row.run_at = row.created_at  # make it ready now instead of after the back-off
    second = jobs.claim_next(db, "w")
    assert second is not None and jobs.run_job(db, second) == "dead"
    assert calls == [1, 2]


def test_dedupe_key_queues_once(db: Database) -> None:
    with db.session() as s:
        assert jobs.enqueue(s, "test.noop", dedupe_key="case-1") is not None
        assert jobs.enqueue(s, "test.noop", dedupe_key="case-1") is None
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Job).where(Job.dedupe_key == "case-1")) == 1


FILTERED: list[str] = []


@subscribe("test.thing_filtered", name="test-filtered", when=lambda d: d.get("wanted") is True)
def _filtered(session, event: Event) -> None:  # type: ignore[no-untyped-def]
    FILTERED.append(event.subject_id)


@subscribe("test.thing_filtered", name="test-filter-fails", when=lambda d: d["missing"] > 0)
def _filter_fails(session, event: Event) -> None:  # type: ignore[no-untyped-def]
    FILTERED.append("failing-filter:" + event.subject_id)


def test_a_subscriber_filter_queues_only_the_events_it_wants(db: Database) -> None:
    """`when` refuses an event: no job for that subscriber. A filter that raises queues the job
    anyway (an event is never lost to a broken filter; the consumer decides)."""

    class Wanted(events.Payload):
        wanted: bool

    FILTERED.clear()
    with events.declared("test.thing_filtered", "thing", Wanted), db.session() as s:
        for subject, wanted in (("no", False), ("yes", True)):
            record_event(
                s,
                "test.thing_filtered",
                subject_type="thing",
                subject_id=subject,
                actor="system:test",
                data={"wanted": wanted},
            )
    with db.reading() as s:
        kinds = sorted(s.scalars(select(Job.kind).where(Job.kind.like("event:test-f%"))))
    assert kinds == ["event:test-filter-fails", "event:test-filter-fails", "event:test-filtered"]
    while jobs.work(db, once=True):
        pass
    assert sorted(FILTERED) == ["failing-filter:no", "failing-filter:yes", "yes"]
