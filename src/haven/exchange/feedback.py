"""Feedback to the providers: a reviewer's decision on content that matched an exchange entry
becomes the feedback that exchange supports (StopNCII SubmitFeedback, NCMEC member feedback,
ThreatExchange reactions), queued through the job queue with retries.

- `violation` confirms the entry (and, in quarantine mode, releases it: its first review);
- `no_violation` overturns it; at the exchange's `dispute_threshold` overturns the entry is
  disabled here and reported back as disputed.

One `exchange_feedback` row per entry and sentiment (unique), so confirming an entry twice, or
a retried job, sends nothing twice.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haven.banks.models import BankEntry, Match
from haven.banks.service import release_entry, set_entries_state
from haven.core.clock import now
from haven.core.db import Database
from haven.core.jobs import RetryLater, enqueue, handler
from haven.core.ledger import record_event, subscribe
from haven.core.models import Event, Job
from haven.exchange import metrics
from haven.exchange.base import ExchangeError, FeedbackItem, FeedbackUnsupported, Sentiment
from haven.exchange.models import Exchange, ExchangeEntry, ExchangeFeedback
from haven.exchange.service import connector_for

JOB = "exchange.feedback"
MAX_ATTEMPTS = 8


def queue_feedback(session: Session, entry: ExchangeEntry, sentiment: Sentiment, *, decision_id: str | None) -> bool:
    """Queue feedback once per entry and sentiment; False when it was queued before."""
    row = ExchangeFeedback(
        exchange_id=entry.exchange_id, entry_id=entry.id, sentiment=sentiment, decision_id=decision_id
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return False
    enqueue(session, JOB, {"feedback_id": row.id}, dedupe_key=f"exchange-feedback:{row.id}", max_attempts=MAX_ATTEMPTS)
    record_event(
        session,
        "exchange.feedback_queued",
        subject_type="exchange",
        subject_id=entry.exchange_id,
        actor="system:exchange",
        data={"entry_id": entry.id, "sentiment": sentiment, "decision_id": decision_id},
    )
    return True


def _entries_for_content(session: Session, content_ids: list[str]) -> list[ExchangeEntry]:
    matched = set(
        session.scalars(select(Match.entry_id).where(Match.content_id.in_(content_ids), Match.status != "allowlisted"))
    )
    if not matched:
        return []
    roots = {e.variant_of or e.id for e in session.scalars(select(BankEntry).where(BankEntry.id.in_(matched)))}
    return list(
        session.scalars(
            select(ExchangeEntry).where(ExchangeEntry.bank_entry_id.in_(roots), ExchangeEntry.deleted_at.is_(None))
        )
    )


@subscribe("review.decision", name="exchange-feedback")
def on_review_decision(session: Session, event: Event) -> None:
    d = event.data or {}
    decision = d.get("decision")
    if decision not in ("violation", "no_violation"):
        return
    content_ids = list(d.get("content_ids") or [])
    if event.subject_type == "content" and event.subject_id not in content_ids:
        content_ids.append(event.subject_id)
    if not content_ids:
        return
    decision_id = str(d.get("decision_id") or event.id)
    for xe in _entries_for_content(session, content_ids):
        exchange = session.get(Exchange, xe.exchange_id)
        if exchange is None:
            continue
        if decision == "violation":
            if queue_feedback(session, xe, "confirm", decision_id=decision_id):
                xe.confirmed += 1
                entry = session.get(BankEntry, xe.bank_entry_id) if xe.bank_entry_id else None
                if entry is not None and entry.quarantined_at is not None:
                    release_entry(session, entry, actor="system:exchange")
            continue
        # An overturn counts once per decision (the ledger job may run again).
        seen = set(xe.labels or [])
        marker = f"overturned-by:{decision_id}"
        if marker in seen:
            continue
        xe.labels = [*list(xe.labels or []), marker]
        xe.overturned += 1
        queue_feedback(session, xe, "overturn", decision_id=decision_id)
        if xe.overturned >= exchange.dispute_threshold and xe.disputed_at is None:
            xe.disputed_at = now()
            if xe.bank_entry_id:
                set_entries_state(session, [xe.bank_entry_id], enabled=False, actor="system:exchange")
            queue_feedback(session, xe, "dispute", decision_id=decision_id)
            record_event(
                session,
                "exchange.entry_disputed",
                subject_type="exchange",
                subject_id=xe.exchange_id,
                actor="system:exchange",
                data={"entry_id": xe.id, "upstream_id": xe.upstream_id, "overturned": xe.overturned},
            )


@handler(JOB, lease_seconds=120)
def send_feedback(db: Database, job: Job) -> None:
    with db.session() as s:
        fb = s.get(ExchangeFeedback, str(job.payload.get("feedback_id")))
        if fb is None or fb.status in ("sent", "unsupported"):
            return
        xe = s.get(ExchangeEntry, fb.entry_id)
        ex = s.get(Exchange, fb.exchange_id)
        if xe is None or ex is None:
            return
        item = FeedbackItem(
            xe.upstream_id,
            xe.upstream_type,
            xe.value,
            xe.contributor,
            fb.sentiment,  # type: ignore[arg-type]
            tuple(xe.labels or ()),
        )
        kind, fb_id = ex.kind, fb.id
        try:
            connector = connector_for(ex)
        except ExchangeError as exc:
            fb.status, fb.last_error = "failed", exc.message
            return
    status, error, retry = "sent", None, None
    try:
        connector.submit_feedback(item)
    except FeedbackUnsupported as exc:
        status, error = "unsupported", exc.message
    except ExchangeError as exc:
        status, error = ("feedback_unsupported" if exc.code == "feedback_unsupported" else "queued"), exc.message
        if status == "feedback_unsupported":
            status = "unsupported"
        else:
            retry = exc
    with db.session() as s:
        fb2 = s.get(ExchangeFeedback, fb_id)
        assert fb2 is not None
        fb2.attempts += 1
        fb2.last_error = error
        if retry is None:
            fb2.status = status
            if status == "sent":
                fb2.sent_at = now()
                metrics.FEEDBACK_SENT.labels(kind, fb2.sentiment).inc()
            record_event(
                s,
                "exchange.feedback_sent" if status == "sent" else "exchange.feedback_unsupported",
                subject_type="exchange",
                subject_id=fb2.exchange_id,
                actor="system:exchange",
                data={"entry_id": fb2.entry_id, "sentiment": fb2.sentiment, "attempts": fb2.attempts},
            )
        elif fb2.attempts >= MAX_ATTEMPTS:
            fb2.status = "failed"
    if retry is not None:
        if retry.code == "rate_limited" and retry.retry_after:
            raise RetryLater(retry.message, retry.retry_after)
        raise retry
