"""Pruning of expired buckets (`haven.finance.jobs`): what a window can still read stays, what no
payment of the last window + grace can read goes, a width no window uses goes whole, the run is
bounded and re-queues itself; the aggregates read afterwards are the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from haven.core.db import Database
from haven.core.models import AuditRecord, Job
from haven.finance import aggregates
from haven.finance.fastsql import Raw
from haven.finance.jobs import JOB, prune, prune_job
from haven.finance.models import WindowBucket
from haven.finance.settings import get_finance_settings

WINDOWS = get_finance_settings().windows  # 1h, 24h, 7d, 30d


def _pay(db: Database, payer: str, payee: str, at: datetime, cents: int = 1000) -> None:
    with db.session() as s:
        aggregates.record(
            Raw(s),
            payer=payer,
            payee=payee,
            amount_minor=cents,
            occurred_at=at,
            payer_country=None,
            payee_country=None,
            windows=WINDOWS,
        )


def _buckets(db: Database) -> dict[int, int]:
    with db.session() as s:
        rows = s.execute(select(WindowBucket.width, func.count()).group_by(WindowBucket.width)).all()
    return {int(w): int(n) for w, n in rows}


def test_prune_keeps_what_windows_read_and_deletes_the_rest(db: Database) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    _pay(db, "a", "b", now - timedelta(minutes=10))
    _pay(db, "a", "c", now - timedelta(hours=30))  # past 1h + 24 h grace: its 1h buckets go
    _pay(db, "a", "d", now - timedelta(days=9))  # past 7d + grace: its 1h, 24h and 7d buckets go
    with db.session() as s:  # a width no window in force uses (HAVEN_FINANCE_WINDOWS changed)
        s.add(WindowBucket(scope="o", account_id="a", counterpart="", width=7, bucket=1, count=1, total=1))
    with db.session() as s:
        before = aggregates.windows_of(s, "a", "b", now, WINDOWS)
    assert _buckets(db) == {7: 1, 60: 9, 1440: 9, 10080: 9, 43200: 9}

    res = prune(db, at=now, batch=2)
    assert res.complete and res.deleted == 1 + 6 + 3 + 3
    assert _buckets(db) == {60: 3, 1440: 6, 10080: 6, 43200: 9}
    with db.session() as s:
        assert aggregates.windows_of(s, "a", "b", now, WINDOWS) == before  # nothing a window reads went
        assert before[0]["30d"].count == 3 and before[0]["7d"].count == 2 and before[0]["1h"].count == 1
        audit = s.scalars(select(AuditRecord).where(AuditRecord.action == "finance.prune")).one()
        assert audit.details == {"deleted": 13, "complete": True}
    assert prune(db, at=now).deleted == 0  # idempotent


def test_prune_is_bounded_and_requeues(db: Database) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for i in range(4):
        _pay(db, "p", f"q{i}", now - timedelta(days=3, minutes=i))
    res = prune(db, at=now, batch=2, max_rows=3)
    assert not res.complete and res.deleted == 3
    # The job: a full run queues the next in an hour (one per hour, by its dedupe key).
    with db.session() as s:
        job = Job(kind=JOB, payload={})
        s.add(job)
    prune_job(db, job)
    assert _buckets(db).get(60, 0) == 0
    with db.session() as s:
        queued = s.scalars(select(Job).where(Job.kind == JOB, Job.dedupe_key.is_not(None))).all()
    assert len(queued) == 1 and queued[0].run_at > datetime.now(UTC) + timedelta(minutes=50)
