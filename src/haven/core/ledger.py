"""The append-only ledger of events and the audit log.

Transparency statistics are computed from events, never from counters kept on the side, so
every state change must go through `record_event` in the same transaction as the change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.core.models import AuditRecord, Event


def record_event(
    session: Session,
    type: str,
    *,
    subject_type: str,
    subject_id: str,
    actor: str,
    data: dict[str, Any] | None = None,
) -> Event:
    """Append an event in the caller's transaction (it commits or rolls back with the change)."""
    event = Event(type=type, subject_type=subject_type, subject_id=subject_id, actor=actor, data=data or {})
    session.add(event)
    return event


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
