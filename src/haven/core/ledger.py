"""The append-only ledger of events and the audit log.

Transparency statistics are computed from events, never from counters kept on the side, so
every state change must go through `record_event` in the same transaction as the change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.core import events
from haven.core.clock import new_id
from haven.core.db import Database
from haven.core.jobs import enqueue, handler
from haven.core.models import AuditRecord, Event, Job

#: event type -> names of subscribers. A subscriber is a job handler named `event:<name>`; for
#: every recorded event of a type it subscribes to, a job is queued in the same transaction,
#: so a consumer (review tasks, enforcement, reporting) never misses an event and never sees
#: one that was rolled back. Use `"*"` to receive every event type.
SUBSCRIBERS: dict[str, list[str]] = {}


#: subscriber name -> its `when` filter (subscribers without one receive every event).
FILTERS: dict[str, Callable[[Mapping[str, Any]], bool]] = {}


def subscribe(
    *event_types: str, name: str, when: Callable[[Mapping[str, Any]], bool] | None = None
) -> Callable[[Callable[[Session, Event], None]], Callable[[Session, Event], None]]:
    """Register `fn(session, event)` to run in the worker for each event of these types.

    The function runs in its own transaction with the event loaded; it must be idempotent
    (a crashed worker retries it). Registration happens at import time: the module must be
    named in its capability's manifest (`subscribers`, see `haven.core.capability`).

    `when(data)`, if given, is asked as the event is recorded: no job is queued for an event
    whose payload it refuses. It must be pure and cheap, and refuse only events the function
    would ignore anyway (it repeats the function's own first test of the payload). Why: every
    upload records `content.received` and `content.verdict`, and three consumers that act on
    a few in a thousand of them cost three jobs, nine write transactions, per upload.
    """

    def register(fn: Callable[[Session, Event], None]) -> Callable[[Session, Event], None]:

        for t in event_types:
            if name not in SUBSCRIBERS.setdefault(t, []):
                SUBSCRIBERS[t].append(name)
        if when is not None:
            FILTERS[name] = when

        @handler(f"event:{name}")
        def run(db: Database, job: Job) -> None:
            with db.session() as s:
                event = s.get(Event, job.payload["event_id"])
                if event is not None:
                    fn(s, event)

        return fn

    return register


def record_event(
    session: Session,
    type: str,
    *,
    subject_type: str,
    subject_id: str,
    actor: str,
    data: dict[str, Any] | None = None,
) -> Event:
    """Append an event in the caller's transaction (it commits or rolls back with the change).

    The event must fit the catalogue (`haven.core.events`): a known type, one of its subject
    kinds, and a payload with exactly its fields; otherwise `events.EventError` (a bug in Haven).
    """
    events.check(type, subject_type, data)

    event = Event(
        id=new_id(), type=type, subject_type=subject_type, subject_id=subject_id, actor=actor, data=data or {}
    )
    session.add(event)
    for name in SUBSCRIBERS.get(type, []) + SUBSCRIBERS.get("*", []):
        if not _wants(name, event.data):
            continue
        enqueue(
            session, f"event:{name}", {"event_id": event.id, "type": type}, dedupe_key=f"{name}:{event.id}", fresh=True
        )
    return event


def _wants(name: str, data: Mapping[str, Any]) -> bool:
    when = FILTERS.get(name)
    if when is None:
        return True
    try:
        return bool(when(data))
    except Exception:  # a filter that fails must not lose an event: the consumer decides
        return True


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    purpose: str | None = None,
    source_ip: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditRecord:
    """Write an audit record in the caller's transaction."""
    record = AuditRecord(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        purpose=purpose,
        source_ip=source_ip,
        details=details or {},
    )
    session.add(record)
    return record


def events_for(session: Session, subject_type: str, subject_id: str) -> list[Event]:
    """Every event about one subject, oldest first."""
    rows = session.scalars(
        select(Event)
        .where(Event.subject_type == subject_type, Event.subject_id == subject_id)
        .order_by(Event.created_at, Event.id)
    )
    return list(rows)
