"""Tasks from the other capabilities' events: appeals (`appeal.filed`), user reports
(`user_report.received`) and flagged conversations (`conversation.flagged`).

Each handler is idempotent per event (the task's `source_key`, or the merge record of an open
task), so a retried worker job creates nothing twice. Priorities:

- appeals: child-safety categories first; the original deciders are excluded from the task
  (`details["exclude_staff"]`, enforced when claiming and when deciding);
- user reports: imminent risk, then child safety, then trusted flaggers, then the rest (the
  case's priority from intake); reports merged into a case raise its open task;
- conversations: sextortion very high, grooming of a minor by an adult high, else medium;
- payments (`transaction.flagged`): a hold or decline involving a minor highest, other holds
  high, reviews medium; one open financial task per payee.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.accounts.bands import MINOR_BANDS
from haven.core.clock import now
from haven.core.ledger import record_event, subscribe
from haven.core.models import Event
from haven.enforce.decisions import find_decision
from haven.enforce.models import Appeal
from haven.policy.categories import CATEGORIES
from haven.review.models import ReviewTask
from haven.review.service import add_or_raise_task
from haven.screening.models import ContentItem

#: user_report.received priority (0 imminent .. 3 other) -> task severity (4 highest).
REPORT_SEVERITY = {0: 4, 1: 3, 2: 2, 3: 1}
#: conversation.flagged priority -> task severity.
CONVERSATION_SEVERITY = {"VERY_HIGH": 4, "HIGH": 3, "MEDIUM": 2, "LOW": 1}


def _child_safety(category: str | None) -> bool:
    c = CATEGORIES.get(str(category or ""))
    return bool(c and c.child_safety)


def _staff_ids(refs: list[Any]) -> list[str]:
    return sorted({str(r).split(":", 1)[1] for r in refs if str(r).startswith("staff:")})


@subscribe("appeal.filed", name="review-appeals")
def task_from_appeal(session: Session, event: Event) -> None:
    """An appeal becomes a task on the appealed subject in the `appeals` queue. The reviewer's
    decision carries `appeal_id` (from the task's details) so enforcement decides the appeal:
    a decision that disagrees with the appealed one upholds it."""

    d = event.data or {}
    appeal = session.get(Appeal, str(d.get("appeal_id") or event.subject_id))
    decision = find_decision(session, str(d.get("decision_id") or ""))
    if appeal is None or decision is None:
        return
    category = d.get("category") or decision.category
    child_safety = _child_safety(category)
    subject_type, subject_id = decision.subject_type, decision.subject_id
    if subject_type not in ("content", "account", "conversation", "notice_case"):
        subject_type, subject_id = "account", str(decision.account_id or appeal.appellant)
    deciders = list(d.get("original_deciders") or appeal.original_deciders or [])
    excluded = _staff_ids(deciders)
    statement = (appeal.statement or "").strip()
    add_or_raise_task(
        session,
        queue="appeals",
        subject_type=subject_type,
        subject_id=subject_id,
        severity=3 if child_safety else 1,
        content_ids=list(d.get("content_ids") or decision.content_ids or []),
        uploader=d.get("account_id") or decision.account_id,
        child_safety=child_safety,
        exclude_staff=excluded[0] if excluded else None,
        reason=f"Appeal by {appeal.appellant} against decision {decision.id} ({category}): {statement[:500]}",
        details={
            "appeal_id": appeal.id,
            "decision_id": decision.id,
            "category": category,
            "original_deciders": deciders,
            "original_outcome": decision.outcome,
            "automated_decision": d.get("automated_decision"),
            "exclude_staff": excluded,
            "event_id": event.id,
        },
        source_key=f"appeal:{appeal.id}",
        created_at=event.created_at,
    )


@subscribe("user_report.received", name="review-user-reports")
def task_from_user_report(session: Session, event: Event) -> None:
    """One task per report case in `user_reports`; a merged report raises the case's open task
    (an imminent-risk report on a waiting case moves it to the front)."""

    d = event.data or {}
    case_id = str(d.get("case_id") or event.subject_id)
    priority = int(d.get("priority", 3))
    category = str(d.get("category") or "other")
    target_type, target_id = str(d.get("target_type") or ""), str(d.get("target_id") or "")
    content_ids: list[str] = []
    uploader = None
    if target_type == "content":
        item = session.get(ContentItem, target_id)
        if item is not None:
            content_ids, uploader = [item.id], item.uploader
    elif target_type == "account":
        uploader = target_id
    trusted = bool(d.get("trusted_flagger"))
    imminent = bool(d.get("imminent_risk"))
    flags = (["imminent risk"] if imminent else []) + (["trusted flagger"] if trusted else [])
    add_or_raise_task(
        session,
        queue="user_reports",
        subject_type="notice_case",
        subject_id=case_id,
        severity=REPORT_SEVERITY.get(priority, 1),
        content_ids=content_ids,
        uploader=uploader,
        child_safety=bool(d.get("child_safety")) or _child_safety(category),
        reason=f"User report ({category}) on {target_type} {target_id}" + (f" — {', '.join(flags)}" if flags else ""),
        details={
            "case_id": case_id,
            "category": category,
            "report_ids": [str(d.get("report_id"))] if d.get("report_id") else [],
            "trusted_flagger": trusted,
            "imminent_risk": imminent,
            "target_type": target_type,
            "target_id": target_id,
            "rule": d.get("rule"),
        },
        source_key=f"user_report:{d.get('report_id') or event.id}",
        created_at=event.created_at,
    )


@subscribe("conversation.flagged", name="review-conversations")
def task_from_conversation(session: Session, event: Event) -> None:
    """A flagged conversation becomes a task in the grooming and sextortion queue; a second
    family flagged while the task waits raises it (sextortion is very high priority)."""
    d = event.data or {}
    conv_id = str(d.get("conversation_id") or event.subject_id)
    family = str(d.get("family") or "grooming")
    grooming = d.get("grooming") or {}
    sextortion = d.get("sextortion") or {}
    score = max(float(grooming.get("score") or 0.0), float(sextortion.get("score") or 0.0))
    severity = CONVERSATION_SEVERITY.get(str(d.get("priority") or "MEDIUM"), 2)
    add_or_raise_task(
        session,
        queue="grooming",
        subject_type="conversation",
        subject_id=conv_id,
        severity=severity,
        score=score,
        uploader=d.get("sender"),
        reason=f"Conversation flagged for {family} at turn {d.get('turn')} ({d.get('priority')})",
        details={
            "families": [family],
            "category": "sextortion" if family == "sextortion" else "grooming",
            "sender": d.get("sender"),
            "recipients": list(d.get("recipients") or []),
            "relationship": list(d.get("relationship") or []),
            "flagged_turn": d.get("turn"),
            "event_id": event.id,
        },
        source_key=f"conversation.flagged:{event.id}",
        created_at=event.created_at,
    )


@subscribe("notice_case.closed", name="review-resolved-cases")
def close_tasks_of_closed_case(session: Session, event: Event) -> None:
    """A report case closed by a decision made elsewhere (the reviewer confirmed the reported
    account's conversation, say) takes its open task with it: one incident, one decision, one
    CyberTipline case. The task is closed as `resolved`, never decided twice; a claim on it ends."""
    case_id = event.subject_id
    decision_id = (event.data or {}).get("decision_id")
    tasks = session.scalars(
        select(ReviewTask).where(
            ReviewTask.subject_type == "notice_case", ReviewTask.subject_id == case_id, ReviewTask.status == "open"
        )
    )
    for task in list(tasks):
        # Its own decision closed it already ("done"); what is still open (the report's task, an
        # escalation of it) was overtaken by a decision on another task.
        task.status = "resolved"
        task.closed_at = now()
        task.claimed_by = None
        task.lease_until = None
        task.details = {**(task.details or {}), "resolved_by": decision_id}
        record_event(
            session,
            "review.task_resolved",
            subject_type="notice_case",
            subject_id=case_id,
            actor="system:haven",
            data={
                "task_id": task.id,
                "queue": task.queue,
                "resolved_by": decision_id,
                "reason": "the report case was closed by a decision on the same incident",
            },
        )


@subscribe("review.task_created", name="review-staffing")
def warn_when_nobody_may_take(session: Session, event: Event) -> None:
    """A task nobody on staff may take is told at once (`review.task_unstaffed`, which Prometheus
    alerting sees through `haven_review_unstaffed_tasks` and admins on the console's home page)."""
    from haven.review.staffing import task_is_unstaffed

    task = session.get(ReviewTask, (event.data or {}).get("task_id"))
    if task is None or task.status != "open":
        return
    why = task_is_unstaffed(session, task)
    if why is None:
        return
    record_event(
        session,
        "review.task_unstaffed",
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        actor="system:haven",
        data={
            "task_id": task.id,
            "queue": task.queue,
            "reason": why,
            "due_at": task.due_at.isoformat() if task.due_at else None,
        },
    )


#: transaction.flagged: a held or declined payment of a minor to a suspected extorter is the most
#: urgent; other holds high; reviews (fan-in, typologies) medium.
FINANCIAL_CHILD_CATEGORIES = frozenset({"sextortion", "csam", "grooming", "child_trafficking"})


@subscribe("transaction.flagged", name="review-financial")
def task_from_transaction(session: Session, event: Event) -> None:
    """A flagged payment becomes a task in the **financial** queue on the payee's account (one
    subject view: the money trail, the flagged conversations and the content of the same
    accounts); further payments to the same payee while it waits raise that task."""
    d = event.data or {}
    minor = str(d.get("payer_band")) in MINOR_BANDS or str(d.get("payee_band")) in MINOR_BANDS
    outcome = str(d.get("outcome") or "review")
    category = str(d.get("category") or "other")
    severity = 4 if outcome in ("hold", "decline") and minor else 3 if outcome in ("hold", "decline") else 2
    conversations = list(d.get("conversations") or [])
    add_or_raise_task(
        session,
        queue="financial",
        subject_type="account",
        subject_id=str(d.get("payee")),
        severity=severity,
        uploader=d.get("payee"),
        child_safety=minor or category in FINANCIAL_CHILD_CATEGORIES,
        reason=f"Payment {outcome} by {d.get('rule')}: {d.get('reason')}",
        details={
            "category": category,
            "transaction_ids": [event.subject_id],
            "payers": [str(d.get("payer"))],
            "rules": [str(d.get("rule"))],
            "indicators": list(d.get("indicators") or []),
            "conversation_ids": conversations,
            "conversation_id": conversations[0] if conversations else None,
            "event_id": event.id,
        },
        source_key=f"transaction.flagged:{event.id}",
        created_at=event.created_at,
    )
