"""Pruning of expired aggregate buckets (`finance.prune`, a job of the worker).

A window W is read from the 60 buckets of width W/60 before a payment's time, so a bucket of
that width older than W is never read again by a payment that occurred in the last
`HAVEN_FINANCE_PRUNE_GRACE_HOURS` (24): it is deleted. Buckets of a width no window in force
uses (an operator changed `HAVEN_FINANCE_WINDOWS`) are deleted whole. Without this the bucket
table grows by about ten rows per payment forever (11.6M rows for 1M payments in 30 days).

Bounded: each transaction deletes at most `HAVEN_FINANCE_PRUNE_BATCH` (5,000) rows through the
`ix_finance_buckets_expiry (width, bucket)` index, so a sweep holds SQLite's write lock or
PostgreSQL's row locks for milliseconds at a time, between which payments are screened; a run
stops after `HAVEN_FINANCE_PRUNE_MAX_ROWS` (200,000) and comes back in a minute if it stopped
there, else in an hour. The worker queues the first run at start (`schedule`); `haven finance
prune` runs one now. Idempotent (deleting what is already gone deletes nothing).

A payment that occurred more than W + grace ago (a late batch; at most
`HAVEN_FINANCE_MAX_AGE_DAYS` is accepted) is screened with the buckets still kept, so its
window W counts only what is left of that time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text

from haven.core.actors import SYSTEM
from haven.core.clock import now
from haven.core.db import Database
from haven.core.jobs import enqueue, handler
from haven.core.ledger import audit
from haven.core.models import Job
from haven.finance.aggregates import BUCKETS, width, window_seconds
from haven.finance.settings import get_finance_settings

log = logging.getLogger("haven.finance.prune")

JOB = "finance.prune"

#: The widths present in the table, by a loose index scan (one index probe per width).
_WIDTHS = text(
    "WITH RECURSIVE w(x) AS (SELECT MIN(width) FROM finance_buckets"
    " UNION ALL SELECT (SELECT MIN(width) FROM finance_buckets WHERE width > w.x) FROM w WHERE w.x IS NOT NULL)"
    " SELECT x FROM w WHERE x IS NOT NULL"
)
_DELETE = text(
    "DELETE FROM finance_buckets WHERE (scope, account_id, counterpart, width, bucket) IN"
    " (SELECT scope, account_id, counterpart, width, bucket FROM finance_buckets"
    " WHERE width = :w AND bucket < :cut LIMIT :n)"
)


@dataclass
class PruneResult:
    deleted: int = 0
    complete: bool = True  # False: stopped at max_rows, more to delete


def cutoffs(at: datetime, windows: list[str], grace_seconds: int) -> dict[int, int]:
    """Per bucket width in use, the first bucket still kept at time `at`."""
    t = int(at.timestamp())
    out: dict[int, int] = {}
    for w in windows:
        wd = width(w)
        keep_from = (t - window_seconds(w) - grace_seconds) // wd
        # Two windows may share a width: keep what the longer one reads.
        out[wd] = min(out.get(wd, keep_from), keep_from, t // wd - BUCKETS)
    return out


def prune(
    db: Database,
    *,
    at: datetime | None = None,
    batch: int | None = None,
    max_rows: int | None = None,
) -> PruneResult:
    """Delete expired buckets, `batch` rows per transaction, at most `max_rows` this run."""
    fs = get_finance_settings()
    at = at or now()
    batch = batch or fs.prune_batch
    max_rows = max_rows or fs.prune_max_rows
    keep = cutoffs(at, fs.windows, fs.prune_grace_hours * 3600)
    res = PruneResult()
    with db.reading() as s:
        present = [int(x) for x in s.execute(_WIDTHS).scalars()]
    for wd in present:
        cut = keep.get(wd, 2**62)  # a width no window uses: every bucket of it goes
        while True:
            n = min(batch, max_rows - res.deleted)
            if n <= 0:
                res.complete = False
                break
            with db.session() as s:
                deleted = s.execute(_DELETE, {"w": wd, "cut": cut, "n": n}).rowcount or 0  # type: ignore[attr-defined]
            res.deleted += deleted
            if deleted < n:
                break
        if not res.complete:
            break
    with db.session() as s:
        audit(
            s,
            actor=SYSTEM.ref,
            action="finance.prune",
            object_type="table",
            object_id="finance_buckets",
            purpose="retention",
            details={"deleted": res.deleted, "complete": res.complete},
        )
    log.info("finance buckets pruned", extra={"deleted": res.deleted, "complete": res.complete})
    return res


def schedule(db: Database, *, delay_seconds: float = 0.0) -> bool:
    """Queue the next run (at most one per hour: the dedupe key is the hour it runs in)."""
    hour = (now() + timedelta(seconds=delay_seconds)).strftime("%Y-%m-%dT%H")
    with db.session() as s:
        return enqueue(s, JOB, {}, dedupe_key=f"{JOB}:{hour}", delay=delay_seconds) is not None


@handler(JOB, lease_seconds=600)
def prune_job(db: Database, job: Job) -> None:
    res = prune(db)
    if res.complete:
        schedule(db, delay_seconds=3600)
    else:  # more to delete: again in a minute (its own key, so the hourly run stays queued)
        with db.session() as s:
            enqueue(s, JOB, {}, dedupe_key=f"{JOB}:more:{now().isoformat()}", delay=60)
