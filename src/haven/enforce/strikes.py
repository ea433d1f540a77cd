"""Strikes in the database: what the ladder reads and what overturned decisions remove."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haven.core.clock import now
from haven.core.ledger import record_event
from haven.enforce.ladder import LadderConfig, Outcome, StrikeView, active_points, load_ladder
from haven.enforce.models import EnforcementDecision, Strike
from haven.enforce.settings import get_enforce_settings


def ladder() -> LadderConfig:
    return load_ladder(get_enforce_settings().ladder_file)


def strikes_of(session: Session, account_id: str) -> list[Strike]:
    return list(
        session.scalars(select(Strike).where(Strike.account_id == account_id).order_by(Strike.created_at, Strike.id))
    )


def views(rows: list[Strike]) -> list[StrikeView]:
    return [StrikeView(r.category, r.points, r.created_at, r.expires_at, r.removed_at is not None) for r in rows]


def standing(session: Session, account_id: str, at: datetime | None = None) -> tuple[int, int]:
    """(active strike points, decisions against the account that stand) for policy rules."""
    points = active_points(views(strikes_of(session, account_id)), at or now())
    violations = session.scalar(
        select(func.count())
        .select_from(EnforcementDecision)
        .where(
            EnforcementDecision.account_id == account_id,
            EnforcementDecision.outcome == "violation",
            EnforcementDecision.overturned_at.is_(None),
        )
    )
    return points, int(violations or 0)


def add(
    session: Session, *, account_id: str, decision_id: str, category: str, outcome: Outcome, actor: str
) -> Strike | None:
    """Record the strike of an outcome (none for a warning without points)."""
    if outcome.points_added == 0:
        return None
    row = Strike(
        account_id=account_id,
        decision_id=decision_id,
        category=category,
        severity=outcome.severity,
        points=outcome.points_added,
        created_at=now(),
        expires_at=outcome.strike_expires_at,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        "strike.added",
        subject_type="account",
        subject_id=account_id,
        actor=actor,
        data={
            "strike_id": row.id,
            "decision_id": decision_id,
            "category": category,
            "severity": outcome.severity,
            "points": outcome.points_added,
            "expires_at": row.expires_at.isoformat() if row.expires_at else None,
            "points_after": outcome.points_after,
        },
    )
    return row


def remove_for_decision(session: Session, decision_id: str, *, reason: str, actor: str) -> list[Strike]:
    """Remove the strikes of an overturned decision (kept, marked removed)."""
    rows = list(session.scalars(select(Strike).where(Strike.decision_id == decision_id, Strike.removed_at.is_(None))))
    stamp = now()
    for r in rows:
        r.removed_at = stamp
        r.removed_reason = reason
        record_event(
            session,
            "strike.removed",
            subject_type="account",
            subject_id=r.account_id,
            actor=actor,
            data={"strike_id": r.id, "decision_id": decision_id, "points": r.points, "reason": reason},
        )
    return rows
