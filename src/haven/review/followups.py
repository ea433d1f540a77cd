"""What followed a review decision: the report case, the banked hashes, the enforcement, the
notices and webhooks, the tasks it closed or opened.

A reviewer who confirms a violation sets off work in several capabilities (most of it in worker
jobs a moment later). Without this the console said only "decided"; a new user could not tell
whether a CyberTipline draft was opened, whether the account was terminated, or whether the
reporter was told. Everything here is read from the rows and ledger events those capabilities
write, linked by the decision's id, so the page is the ledger's answer, not a second record.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.banks.models import BankEntry
from haven.core.models import Event
from haven.cybertip.models import ReportCase
from haven.enforce.models import Delivery, EnforcementAction, EnforcementDecision, StatementOfReasons
from haven.enforce.notices.models import NoticeCase
from haven.enforce.webhooks import action_label
from haven.review.models import ReviewDecision, ReviewTask
from haven.review.queues import QUEUES


@dataclass(frozen=True)
class Followup:
    kind: str  # report_case, banked, enforcement, action, statement, webhooks, notice_case, task
    text: str
    link: str | None = None


def what_followed(session: Session, decision: ReviewDecision, prefix: str = "/console") -> list[Followup]:
    """Everything that a review decision has led to so far, in the order a reader expects."""
    out: list[Followup] = []
    cases = list(session.scalars(select(ReportCase).where(ReportCase.decision_id == decision.id)))
    merged_ids = [
        e.subject_id
        for e in session.scalars(select(Event).where(Event.type == "report.case_updated"))
        if (e.data or {}).get("decision_id") == decision.id
    ]
    for case in cases:
        out.append(
            Followup(
                "report_case",
                f"CyberTipline draft opened ({case.incident_type}), status {case.status}",
                f"{prefix}/reports/{case.id}",
            )
        )
    for case_id in dict.fromkeys(merged_ids):
        out.append(
            Followup(
                "report_case",
                "added to the open CyberTipline draft of the same incident",
                f"{prefix}/reports/{case_id}",
            )
        )
    banked = session.scalars(select(BankEntry).where(BankEntry.source_ref == f"review:{decision.id}")).all()
    if banked:
        kinds = sorted({e.signal_type for e in banked})
        out.append(Followup("banked", f"{len(banked)} hash(es) added to local_confirmed ({', '.join(kinds)})"))
    enforcement = session.scalar(select(EnforcementDecision).where(EnforcementDecision.source_ref == decision.id))
    if enforcement is not None:
        out.append(Followup("enforcement", f"enforcement decision: {enforcement.outcome} ({enforcement.category})"))
    else:
        # A confirmation of what a rule already did (known material): no second set of actions.
        confirmed = next(
            (
                e
                for e in session.scalars(
                    select(Event).where(Event.type == "enforcement.confirmed", Event.subject_id == decision.subject_id)
                )
                if (e.data or {}).get("source_ref") == decision.id
            ),
            None,
        )
        enforcement = session.get(EnforcementDecision, confirmed.data["decision_id"]) if confirmed else None
        if enforcement is not None:
            out.append(
                Followup(
                    "enforcement",
                    f"confirmed what rule {enforcement.rule or 'a rule'} already did ({enforcement.category}): "
                    "its actions stand, none is sent twice",
                )
            )
    if enforcement is not None:
        for action in session.scalars(select(EnforcementAction).where(EnforcementAction.decision_id == enforcement.id)):
            until = f" until {action.until:%Y-%m-%d}" if action.until else ""
            subject = f"{action.subject_type} {action.subject_id}"
            out.append(Followup("action", f"{action_label(action.action_type)}: {subject}{until}"))
        statements = session.scalars(
            select(StatementOfReasons).where(StatementOfReasons.decision_id == enforcement.id)
        ).all()
        for st in statements:
            out.append(
                Followup("statement", f"statement of reasons to {st.account_id or 'the user'} ({st.notice_status})")
            )
        deliveries = session.scalars(select(Delivery).where(Delivery.decision_id == enforcement.id)).all()
        if deliveries:
            by_status: dict[str, int] = {}
            for d in deliveries:
                by_status[d.status] = by_status.get(d.status, 0) + 1
            states = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
            types = ", ".join(sorted({action_label(d.action_type) for d in deliveries}))
            out.append(Followup("webhooks", f"{len(deliveries)} webhook(s) to the service ({types}): {states}"))
        closed = session.scalars(select(NoticeCase).where(NoticeCase.decision_id == enforcement.id)).all()
        for nc in closed:
            out.append(
                Followup("notice_case", f"user-report case closed as {nc.outcome}; reporters who asked were told")
            )
        resolved: list[Event] = (
            list(
                session.scalars(
                    select(Event).where(
                        Event.type == "review.task_resolved", Event.subject_id.in_([nc.id for nc in closed])
                    )
                )
            )
            if closed
            else []
        )
        for e in resolved:  # only the tasks of the cases this decision closed, not every such event
            if (e.data or {}).get("resolved_by") == enforcement.id:
                queue = QUEUES.get(str(e.data.get("queue")))
                title = queue.title if queue else str(e.data.get("queue"))
                out.append(Followup("task", f"the open task of that report (queue {title}) closed with it"))
    for task in session.scalars(select(ReviewTask).where(ReviewTask.parent_decision_id == decision.id)):
        queue = QUEUES.get(task.queue)
        title = queue.title if queue else task.queue
        out.append(Followup("task", f"new task in {title}: {task.reason}", f"{prefix}/tasks/{task.id}"))
    return out
