"""A database-backed job queue: no extra server for a small service.

On PostgreSQL a claim is `SELECT ... FOR UPDATE SKIP LOCKED` and an UPDATE in one transaction:
workers never wait on each other's rows, each takes the oldest ready job no other worker holds.
On SQLite (one writer at a time anyway) it is a conditional UPDATE (status and lease checked in
the WHERE clause). Either way two workers never run the same job. A job whose worker dies is
retaken when its lease expires; handlers must therefore be idempotent (they are told the
attempt number).

Idle workers on PostgreSQL do not poll every half second: `enqueue` sends `NOTIFY haven_jobs`
(delivered when the enqueuing transaction commits) and a waiting worker wakes on it
(`JobWaiter`), polling only as a fallback for delayed jobs and lost connections.

Leases are short and renewed: each kind has its lease (`handler(kind, lease_seconds=...)`, 300 s
unless said otherwise; a webhook delivery's is 60 s) and while a handler runs a heartbeat thread
extends it every third of the lease. A long job keeps its lease as long as its worker lives; the
job of a killed worker is retaken within one lease, not after the longest any job could take.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haven.core import tracing
from haven.core.clock import now
from haven.core.db import Database
from haven.core.models import Job

Handler = Callable[[Database, Job], None]
log = logging.getLogger("haven.core.jobs")

#: kind -> handler. Capabilities register theirs at import time with `@handler("kind")`.
HANDLERS: dict[str, Handler] = {}
#: kind -> lease in seconds, for kinds that declared one (others get DEFAULT_LEASE_SECONDS).
LEASES: dict[str, float] = {}
DEFAULT_LEASE_SECONDS = 300.0
#: The PostgreSQL channel a worker LISTENs on; the payload is the job's kind.
CHANNEL = "haven_jobs"


class RetryLater(Exception):
    """Raised by a handler to be retried after `delay` seconds without counting as an error."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


def handler(kind: str, *, lease_seconds: float | None = None) -> Callable[[Handler], Handler]:
    """Register the handler of a kind; `lease_seconds` is how long a claim holds before another
    worker may retake it (renewed by the heartbeat while the handler runs)."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        if lease_seconds is not None:
            LEASES[kind] = lease_seconds
        return fn

    return register


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    dedupe_key: str | None = None,
    delay: float = 0.0,
    max_attempts: int = 10,
    fresh: bool = False,
) -> Job | None:
    """Queue a job in the caller's transaction. With a dedupe key, a second enqueue is a no-op
    (returns None), which makes "queue once per case" safe under retries.

    `fresh` says the dedupe key contains an id minted in this transaction (an event's jobs), so
    no earlier job can hold it: the lookup and the savepoint (two round trips per job, a third
    of an upload's database time) are skipped; the unique constraint still guards the key."""
    if dedupe_key is not None and not fresh:
        existing = session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
        if existing is not None:
            return None
    job = Job(
        kind=kind,
        payload=payload or {},
        dedupe_key=dedupe_key,
        run_at=now() + timedelta(seconds=delay),
        max_attempts=max_attempts,
        trace_context=tracing.current_traceparent(),
    )
    if fresh:
        session.add(job)
    else:
        try:
            with session.begin_nested():
                session.add(job)
        except IntegrityError:
            return None
    if delay <= 0 and session.get_bind().dialect.name == "postgresql":
        # Delivered at commit (and dropped on rollback); identical notifications in one
        # transaction are folded into one by PostgreSQL.
        session.execute(text("SELECT pg_notify(:c, :k)"), {"c": CHANNEL, "k": kind})
    return job


def backoff_seconds(attempt: int, base: float = 2.0, cap: float = 3600.0) -> float:
    """Exponential back-off with full jitter (AWS architecture blog), capped."""
    return random.uniform(0, min(cap, base * (2 ** max(0, attempt - 1))))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def lease_for(kind: str, default: float | None = None) -> float:
    return LEASES.get(kind, DEFAULT_LEASE_SECONDS if default is None else default)


def _ready(t: Any) -> Any:
    return or_(
        (Job.status == "queued") & (Job.run_at <= t),
        (Job.status == "running") & (Job.locked_until < t),
    )


def claim_next(
    db: Database, worker: str, lease_seconds: float | None = None, kinds: list[str] | None = None
) -> Job | None:
    """Take the oldest ready job with a lease (its kind's, unless `lease_seconds` says otherwise),
    or None when nothing is ready."""
    if db.engine.dialect.name == "postgresql":
        return claim_skip_locked(db, worker, lease_seconds, kinds)
    return claim_conditional(db, worker, lease_seconds, kinds)


def claim_skip_locked(
    db: Database, worker: str, lease_seconds: float | None = None, kinds: list[str] | None = None
) -> Job | None:
    """PostgreSQL: lock the oldest ready row no other transaction holds, and lease it."""
    with db.session() as s:
        t = now()
        q = select(Job).where(_ready(t)).order_by(Job.run_at).limit(1).with_for_update(skip_locked=True)
        if kinds:
            q = q.where(Job.kind.in_(kinds))
        job = s.scalar(q)
        if job is None:
            return None
        lease = lease_seconds if lease_seconds is not None else lease_for(job.kind)
        job.status = "running"
        job.locked_by = worker
        job.locked_until = t + timedelta(seconds=lease)
        job.attempts = (job.attempts or 0) + 1
        return job


def claim_conditional(
    db: Database, worker: str, lease_seconds: float | None = None, kinds: list[str] | None = None
) -> Job | None:
    """The claim of SQLite (and of PostgreSQL before SKIP LOCKED): read a candidate, then take it
    with an UPDATE whose WHERE re-checks that it is still free; retried when another won."""
    for _ in range(5):
        with db.session() as s:
            t = now()
            q = select(Job.id, Job.kind).where(_ready(t)).order_by(Job.run_at).limit(1)
            if kinds:
                q = q.where(Job.kind.in_(kinds))
            found = s.execute(q).first()
            if found is None:
                return None
            job_id, kind = found
            lease = lease_seconds if lease_seconds is not None else lease_for(kind)
            res = s.execute(
                update(Job)
                .where(
                    Job.id == job_id,
                    or_(
                        Job.status == "queued",
                        (Job.status == "running") & (Job.locked_until < t),
                    ),
                )
                .values(
                    status="running",
                    locked_by=worker,
                    locked_until=t + timedelta(seconds=lease),
                    attempts=Job.attempts + 1,
                )
            )
            if res.rowcount == 1:  # type: ignore[attr-defined]
                return s.get(Job, job_id)
    return None


def heartbeat(db: Database, job: Job, worker: str, lease: float) -> bool:
    """Extend the lease of a job this worker still holds; False when it holds it no longer."""
    with db.session() as s:
        res = s.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == "running", Job.locked_by == worker)
            .values(locked_until=now() + timedelta(seconds=lease))
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]


class _Heartbeat:
    """A daemon thread renewing a claimed job's lease every third of it until stopped."""

    def __init__(self, db: Database, job: Job, lease: float) -> None:
        self._stop = threading.Event()
        self._args = (db, job, job.locked_by or "", lease)
        self._thread = threading.Thread(target=self._run, name=f"lease-{job.id}", daemon=True)

    def _run(self) -> None:
        db, job, worker, lease = self._args
        while not self._stop.wait(lease / 3):
            try:
                if not heartbeat(db, job, worker, lease):
                    return
            except Exception:  # a missed beat is retried at the next one
                log.warning("lease heartbeat failed", extra={"job": job.id}, exc_info=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def run_job(db: Database, job: Job) -> str:
    """Run one claimed job and record its outcome; returns the new status. The job's lease is
    renewed while the handler runs."""
    fn = HANDLERS.get(job.kind)
    status: str
    error: str | None = None
    delay = 0.0
    if fn is None:
        status, error = "dead", f"no handler for job kind '{job.kind}'"
    else:
        # The job's span continues the trace of the request (or job) that queued it.
        with (
            tracing.continued(job.trace_context),
            tracing.span(f"job {job.kind}", job_kind=job.kind, job_id=job.id, job_attempt=job.attempts) as sp,
        ):
            try:
                with _Heartbeat(db, job, lease_for(job.kind)):
                    fn(db, job)
                status = "done"
            except RetryLater as exc:
                status, error, delay = "queued", str(exc), exc.delay
            except Exception as exc:  # a handler's failure must not kill the worker
                error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                if job.attempts >= job.max_attempts:
                    status = "dead"
                else:
                    status, delay = "queued", backoff_seconds(job.attempts)
                sp.set_status(tracing.Status(tracing.StatusCode.ERROR, type(exc).__name__))
            sp.set_attribute("haven.job_status", status)
    with db.session() as s:
        row = s.get(Job, job.id)
        if row is None:
            return status
        row.status = status
        row.last_error = error
        row.locked_by = None
        row.locked_until = None
        if status == "queued":
            row.run_at = now() + timedelta(seconds=delay)
        else:
            row.finished_at = now()
    return status


class JobWaiter:
    """How an idle worker waits for the next job: LISTEN on PostgreSQL (woken by the NOTIFY of
    `enqueue` as soon as a job commits), a plain sleep on SQLite. Waiting never takes longer
    than `timeout`, so delayed jobs and retries are still found by the poll."""

    def __init__(self, db: Database) -> None:
        self._conn: Any = None
        self._conninfo: str | None = None
        if db.engine.dialect.name == "postgresql":
            self._conninfo = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def _listen(self) -> Any:
        if self._conn is None or self._conn.closed:
            import psycopg

            self._conn = psycopg.connect(self._conninfo, autocommit=True)  # type: ignore[arg-type]
            self._conn.execute(f"LISTEN {CHANNEL}")
        return self._conn

    def wait(self, timeout: float, stop: Callable[[], bool] | None = None) -> bool:
        """Wait until a job may be ready or `timeout` passes; True when woken by a notification."""
        import time

        if self._conninfo is None:
            time.sleep(timeout)
            return False
        try:
            conn = self._listen()
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0 and not (stop and stop()):
                for _ in conn.notifies(timeout=min(left, 0.5), stop_after=1):
                    return True
            return False
        except Exception:  # a dropped connection: fall back to the poll, reconnect next time
            log.warning("job notifications unavailable; polling", exc_info=True)
            self.close()
            time.sleep(timeout)
            return False

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # closing a broken connection
                log.debug("closing the LISTEN connection failed", exc_info=True)
            self._conn = None


def work(
    db: Database,
    *,
    once: bool = False,
    idle_sleep: float = 0.5,
    kinds: list[str] | None = None,
    stop: Callable[[], bool] | None = None,
) -> int:
    """Work jobs until stopped (or, with once=True, until nothing is ready); returns jobs run.
    On PostgreSQL an idle worker sleeps on LISTEN and polls every `idle_sleep` x 10 at most."""
    name = worker_name()
    ran = 0
    waiter = JobWaiter(db)
    poll = idle_sleep * 10 if db.engine.dialect.name == "postgresql" else idle_sleep
    try:
        while not (stop and stop()):
            job = claim_next(db, name, kinds=kinds)
            if job is None:
                if once:
                    break
                waiter.wait(min(poll, 5.0), stop)
                continue
            run_job(db, job)
            ran += 1
    finally:
        waiter.close()
    return ran
