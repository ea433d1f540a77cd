"""The fetch job: `exchange.fetch` fetches one exchange from its checkpoint, then queues its next
run after the exchange's interval (each exchange keeps its own schedule; "fetch now" queues one
at once). A provider's 429 waits for its Retry-After; other failures are in the exchange's state
and the next scheduled run tries again."""

from __future__ import annotations

import time

from haven.core.db import Database
from haven.core.jobs import RetryLater, enqueue, handler
from haven.core.models import Job
from haven.exchange.base import ExchangeError
from haven.exchange.models import Exchange
from haven.exchange.service import fetch

JOB = "exchange.fetch"


def queue_fetch(session: object, exchange_id: str, *, delay: float = 0.0, reason: str = "scheduled") -> bool:
    """Queue a fetch; False when one for the same reason is already waiting. A scheduled run is
    deduplicated per minute bucket; "fetch now" only against a fetch still queued (a second
    press after the first one ran queues another)."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from haven.core.clock import new_id

    assert isinstance(session, Session)
    if reason == "scheduled":
        key = f"exchange-fetch:{exchange_id}:{reason}:{int((time.time() + delay) // 60)}"
    else:
        waiting = session.scalar(
            select(func.count()).where(
                Job.kind == JOB,
                Job.status == "queued",
                Job.dedupe_key.like(f"exchange-fetch:{exchange_id}:{reason}:%"),
            )
        )
        if waiting:
            return False
        key = f"exchange-fetch:{exchange_id}:{reason}:{new_id()}"
    enqueue(
        session,
        JOB,
        {"exchange_id": exchange_id, "reason": reason},
        dedupe_key=key,
        delay=delay,
        max_attempts=3,
    )
    return True


@handler(JOB, lease_seconds=600)
def run_fetch(db: Database, job: Job) -> None:
    exchange_id = str(job.payload.get("exchange_id"))
    with db.session() as s:
        ex = s.get(Exchange, exchange_id)
        if ex is None or not ex.enabled:
            return
        interval = ex.fetch_interval_seconds
    try:
        fetch(db, exchange_id, actor="system:exchange")
    except ExchangeError as exc:
        if exc.code == "rate_limited" and exc.retry_after:
            raise RetryLater(exc.message, exc.retry_after) from None
    finally:
        if job.payload.get("reason") == "scheduled":
            with db.session() as s:
                queue_fetch(s, exchange_id, delay=interval)
