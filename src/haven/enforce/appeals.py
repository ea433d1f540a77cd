"""Appeals: internal complaints against decisions (DSA Art 20).

An appeal is filed within the window (at least six months, `HAVEN_APPEAL_WINDOW_DAYS`), once per
decision, by the affected account or by a reporter of the case. `appeal.filed` asks the review
console for a task; the appeal is decided by a member of staff who took no part in the original
decision, never by automated means alone. An upheld appeal reverses the decision (content
restored, account reinstated, strikes removed); either way the appellant is told the outcome and
the further redress (out-of-court dispute settlement, courts).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haven.core.clock import now
from haven.core.errors import Conflict, Forbidden, Invalid, NotFound
from haven.core.ledger import audit, record_event
from haven.enforce import statements
from haven.enforce.decisions import DecisionInput, apply, find_decision, overturn
from haven.enforce.models import Appeal, EnforcementDecision
from haven.enforce.notices.models import UserReport
from haven.enforce.settings import get_enforce_settings


def _appellant_allowed(
    session: Session, decision_account: str | None, case_id: str | None, appellant: str, *, acted: bool
) -> bool:
    if acted and appellant == decision_account:
        return True
    if case_id is None:
        return False

    return (
        session.scalar(select(UserReport.id).where(UserReport.case_id == case_id, UserReport.reporter_id == appellant))
        is not None
    )


def file(session: Session, *, decision_ref: str, appellant: str, statement: str, actor: str) -> Appeal:
    decision = find_decision(session, decision_ref)
    if decision is None:
        raise NotFound(f"no decision '{decision_ref}'", code="decision_not_found")
    acted = decision.outcome == "violation"
    if not _appellant_allowed(session, decision.account_id, decision.notice_case_id, appellant, acted=acted):
        raise Forbidden("only the affected account or a reporter of the case may appeal", code="not_appellant")
    window = timedelta(days=get_enforce_settings().appeal_window_days)
    if now() > decision.created_at + window:
        raise Invalid(
            f"the appeal window of {window.days} days after the decision has passed",
            code="appeal_window_closed",
            details={"deadline": (decision.created_at + window).isoformat()},
        )
    if decision.overturned_at is not None:
        raise Conflict("this decision has already been reversed", code="decision_overturned")
    row = Appeal(
        decision_id=decision.id,
        appellant=appellant,
        statement=statement,
        original_deciders=list(decision.deciders),
        filed_at=now(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict(
            "an appeal against this decision exists; one appeal per decision", code="appeal_exists"
        ) from None
    record_event(
        session,
        "appeal.filed",
        subject_type="appeal",
        subject_id=row.id,
        actor=actor,
        data={
            "appeal_id": row.id,
            "decision_id": decision.id,
            "source_ref": decision.source_ref,
            "category": decision.category,
            "account_id": decision.account_id,
            "content_ids": decision.content_ids,
            "original_deciders": row.original_deciders,
            "priority": 1,
            "automated_decision": decision.automated_decision,
        },
    )
    return row


def get(session: Session, appeal_id: str) -> Appeal:
    row = session.get(Appeal, appeal_id)
    if row is None:
        raise NotFound(f"no appeal '{appeal_id}'", code="appeal_not_found")
    return row


def resolve(
    session: Session,
    appeal_id: str,
    *,
    upheld: bool,
    reviewer: str,
    reason: str,
    automated: bool = False,
    category: str | None = None,
) -> Appeal:
    """Decide an appeal. The reviewer is staff, not an original decider, and not automation."""
    row = get(session, appeal_id)
    if row.status != "pending":
        return row
    if automated or not reviewer.startswith("staff:"):
        raise Forbidden("appeals are decided by staff, never by automated means alone", code="human_review_required")
    if reviewer in row.original_deciders:
        raise Forbidden("an appeal is reviewed by someone other than the original deciders", code="same_reviewer")
    if not reason.strip():
        raise Invalid("give the reasons for the appeal decision", code="reason_required")
    decision = find_decision(session, row.decision_id)
    assert decision is not None
    row.status = "upheld" if upheld else "rejected"
    row.decided_at = now()
    row.decided_by = reviewer
    row.reason = reason
    reversed_: list[str] = []
    if upheld and decision.outcome == "violation":
        reversed_ = overturn(session, decision, actor=reviewer, reason=f"appeal {row.id} upheld")
    elif upheld:
        # A notifier's complaint upheld: the reported target does violate the terms after all.
        decision.overturned_at, decision.overturned_by = now(), reviewer
        acted = apply(
            session,
            DecisionInput(
                source="appeal",
                source_ref=f"appeal:{row.id}",
                subject_type=decision.subject_type,
                subject_id=decision.subject_id,
                category=category or decision.category,
                account_id=decision.account_id,
                content_ids=list(decision.content_ids),
                deciders=[reviewer],
                notice_case_id=None,
            ),
            actor=reviewer,
        )
        reversed_ = [f"decision:{acted.id}"]
    settings = get_enforce_settings()
    key = "appeal.upheld_notice" if upheld and decision.outcome == "no_violation" else f"appeal.{row.status}"
    text = statements.msg(statements.locale(), key, decision_id=decision.id, reason=reason)
    text += " " + statements.msg(statements.locale(), "appeal.redress", dispute_url=settings.dispute_settlement_url)
    statements.send_message(
        session,
        account_id=row.appellant,
        kind="appeal_outcome",
        subject=statements.msg(statements.locale(), "subject.appeal_outcome"),
        text=text,
        key=f"appeal-outcome:{row.id}",
        actor=reviewer,
        decision_id=decision.id,
        extra={
            "appeal_id": row.id,
            "outcome": row.status,
            "redress": {"out_of_court": settings.dispute_settlement_url, "courts": True},
        },
    )
    record_event(
        session,
        "appeal.decided",
        subject_type="appeal",
        subject_id=row.id,
        actor=reviewer,
        data={
            "appeal_id": row.id,
            "decision_id": decision.id,
            "outcome": row.status,
            "reversed": reversed_,
            "category": decision.category,
            "filed_at": row.filed_at.isoformat(),
        },
    )
    audit(session, actor=reviewer, action=f"appeal.{row.status}", object_type="appeal", object_id=row.id)
    return row


def pending_for(session: Session, decision_id: str) -> Appeal | None:
    return session.scalar(select(Appeal).where(Appeal.decision_id == decision_id, Appeal.status == "pending"))


def pending_on_subject(session: Session, subject_type: str, subject_id: str, content_ids: list[str]) -> Appeal | None:
    """The oldest pending appeal against a decision on this subject (or on any of this content)."""

    rows = session.execute(
        select(Appeal, EnforcementDecision)
        .join(EnforcementDecision, EnforcementDecision.id == Appeal.decision_id)
        .where(Appeal.status == "pending")
        .order_by(Appeal.filed_at)
    ).all()
    wanted = set(content_ids)
    for appeal, decision in rows:
        same = (decision.subject_type, decision.subject_id) == (subject_type, subject_id)
        if (
            same
            or wanted & set(decision.content_ids or [])
            or (subject_type == "account" and decision.account_id == subject_id)
        ):
            return appeal
    return None
