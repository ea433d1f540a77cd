"""What enforcement does with ledger events: human review decisions, block verdicts of policy
rules, and new terms versions. Each handler is idempotent (a retried job changes nothing)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from haven.core.errors import HavenError
from haven.core.ledger import record_event, subscribe
from haven.core.models import Event
from haven.core.settings import get_settings
from haven.enforce import appeals
from haven.enforce.decisions import DecisionInput, apply, find_decision, overturn, record_no_violation
from haven.enforce.notices.service import get_case, open_case_for
from haven.enforce.webhooks import deliver
from haven.policy.rules import ACCOUNT_ACTIONS
from haven.terms.service import public_url

log = logging.getLogger("haven.enforce")

#: Review queues whose decisions decide the pending appeal on their subject when the event names
#: no `appeal_id` (the review console may route `appeal.filed` to a task on the appealed subject).
APPEAL_QUEUES = frozenset({"appeals", "appeal"})


def _rejected(session: Session, event: Event, exc: HavenError) -> None:
    """A decision enforcement cannot carry out is recorded, not retried forever."""
    log.warning("enforcement refused an event", extra={"event": event.id, "code": exc.code})
    record_event(
        session,
        "enforcement.refused",
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        actor="system:haven",
        data={"event_id": event.id, "code": exc.code, "message": exc.message},
    )


def _targets(session: Session, event: Event, d: dict[str, Any]) -> tuple[str | None, list[str], str | None]:
    """(account, content ids, report case) that a review decision is about."""
    content_ids = list(d.get("content_ids") or [])
    account = d.get("uploader")
    case_id = None
    if event.subject_type == "content" and not content_ids:
        content_ids = [event.subject_id]
    elif event.subject_type == "account":
        account = account or event.subject_id
    elif event.subject_type == "notice_case":
        case = get_case(session, event.subject_id)
        case_id = case.id
        if case.target_type == "content" and not content_ids:
            content_ids = [case.target_id]
        elif case.target_type == "account":
            account = account or case.target_id
    return account, content_ids, case_id


def _deciders(actor: str, reviewer: Any) -> list[str]:
    out = {actor}
    if reviewer:
        ref = str(reviewer)
        out.add(ref if ":" in ref else f"staff:{ref}")
    return sorted(out)


@subscribe("review.decision", name="enforcement")
def on_review_decision(session: Session, event: Event) -> None:
    d = event.data or {}
    outcome = d.get("decision")
    if outcome not in ("violation", "no_violation"):
        return  # escalations and second opinions stay inside review
    try:
        with session.begin_nested():
            _review_decision(session, event, d, outcome)
    except HavenError as exc:
        _rejected(session, event, exc)


def _review_decision(session: Session, event: Event, d: dict[str, Any], outcome: str) -> None:
    reviewer = event.actor
    reason = str(d.get("classification") or d.get("reason") or "reviewed again")
    appeal_id = d.get("appeal_id")
    if not appeal_id and str(d.get("queue") or "") in APPEAL_QUEUES:
        found = appeals.pending_on_subject(session, event.subject_type, event.subject_id, d.get("content_ids") or [])
        appeal_id = found.id if found is not None else None
    if appeal_id:
        # Upheld when the reviewer disagrees with the appealed decision: no violation against a
        # restriction (the user's appeal), or a violation against a decision not to act (a notifier's).
        appeal = appeals.get(session, appeal_id)
        appealed = find_decision(session, appeal.decision_id)
        original = appealed.outcome if appealed is not None else "violation"
        appeals.resolve(
            session,
            appeal.id,
            upheld=outcome != original,
            reviewer=reviewer,
            reason=reason,
            automated=bool(d.get("automated")),
            category=d.get("category"),
        )
        return
    if d.get("overturns"):
        prior = find_decision(session, d["overturns"])
        if prior is not None:
            pending = appeals.pending_for(session, prior.id)
            if pending is not None:
                appeals.resolve(
                    session,
                    pending.id,
                    upheld=True,
                    reviewer=reviewer,
                    reason=reason,
                    automated=bool(d.get("automated")),
                )
            else:
                overturn(session, prior, actor=reviewer, reason=f"overturned by review decision {d.get('decision_id')}")
    account, content_ids, case_id = _targets(session, event, d)
    if outcome == "violation":
        category = d.get("category") or "other"
        apply(
            session,
            DecisionInput(
                source="review",
                source_ref=str(d.get("decision_id") or event.id),
                subject_type=event.subject_type,
                subject_id=event.subject_id,
                category=category,
                account_id=account,
                content_ids=content_ids,
                automated_detection=bool(d.get("automated_detection", False)),
                automated_decision="AUTOMATED_DECISION_PARTIALLY"
                if d.get("automated")
                else "AUTOMATED_DECISION_NOT_AUTOMATED",
                deciders=_deciders(reviewer, d.get("reviewer")),
                notice_case_id=case_id,
            ),
            actor=reviewer,
        )
        return

    case_id = case_id or open_case_for(
        session, [("content", c) for c in content_ids] + ([("account", account)] if account else [])
    )
    if case_id:
        record_no_violation(
            session,
            source_ref=str(d.get("decision_id") or event.id),
            case_id=case_id,
            deciders=_deciders(reviewer, d.get("reviewer")),
            actor=reviewer,
        )


@subscribe("content.enforcement_requested", name="enforcement-verdicts")
def on_verdict(session: Session, event: Event) -> None:
    """A block verdict of a rule that removes or restricts is carried out at once (known material).
    Intake records this event only for such verdicts (see `ENFORCING_ACTIONS` there)."""
    d = event.data or {}
    actions = set(d.get("actions") or [])
    if not (actions & ({"content.remove", "ladder"} | ACCOUNT_ACTIONS)):
        return
    forced = next((a for a in ("account.terminate", "account.suspend", "account.restrict") if a in actions), None)
    try:
        with session.begin_nested():
            apply(
                session,
                DecisionInput(
                    source="policy",
                    source_ref=event.id,
                    subject_type="content",
                    subject_id=event.subject_id,
                    category=d.get("category") or "other",
                    account_id=d.get("uploader"),
                    content_ids=[event.subject_id],
                    automated_detection=True,
                    automated_decision="AUTOMATED_DECISION_FULLY",
                    deciders=[f"policy:{d.get('rule')}"],
                    rule=d.get("rule"),
                    ladder=bool(actions & ({"ladder"} | ACCOUNT_ACTIONS)),
                    force_action=forced,
                ),
                actor=f"system:policy:{d.get('rule')}",
            )
    except HavenError as exc:
        _rejected(session, event, exc)


@subscribe("tos.published", name="enforcement-terms")
def on_terms(session: Session, event: Event) -> None:
    """Tell the service about a new terms version so it can tell its users (`tos.updated`)."""
    d = event.data or {}
    if d.get("default"):
        return  # the terms shipped with Haven on a fresh install are not news

    version = str(d.get("version"))
    deliver(
        session,
        "tos.updated",
        {
            "version": version,
            "effective_at": d.get("effective_at"),
            "summary": d.get("summary", ""),
            "url": public_url(get_settings().public_url, version),
        },
        subject_type="terms",
        subject_id=version,
        actor=event.actor,
        idempotency_key=f"tos.updated:{version}",
    )


def _nudge_is_test(session: Session, d: dict[str, Any]) -> bool:
    if d.get("mode") == "test":
        return True
    from haven.screening.mode import traffic_is_test

    return bool(d.get("conversation_id")) and traffic_is_test(session, conversation_ids=[str(d["conversation_id"])])


@subscribe("safety.nudge", name="enforcement-nudges")
def on_safety_nudge(session: Session, event: Event) -> None:
    """Deliver the classify capability's ready message to the service (`safety.nudge` webhook),
    once per event: the idempotency key is the event's, so a retried job sends nothing new."""
    d = event.data or {}
    account = str(d.get("account_id") or event.subject_id)
    deliver(
        session,
        "safety.nudge",
        {
            "account_id": account,
            "conversation_id": d.get("conversation_id"),
            "turn": d.get("turn"),
            "message": d.get("message") or {},
            "transaction_id": d.get("transaction_id"),
            "event_id": event.id,
            # A nudge about a test-mode key's traffic (a payment, a conversation) says so.
            **({"mode": "test"} if _nudge_is_test(session, d) else {}),
        },
        subject_type="account",
        subject_id=account,
        actor=event.actor,
        idempotency_key=f"safety.nudge:{event.id}",
    )
