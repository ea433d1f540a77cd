"""User reports (DSA Art 16 notices).

A report names a target (content or account, with its location URL), a category, an
explanation and a good-faith statement; the reporter is optional only for child-safety
categories (Art 16(2)(c): notices of child sexual abuse may be anonymous). Reports on the same
target are merged into one open case, reviewed once. Cases are ordered by priority: imminent
risk to a child first, then child-safety categories, then trusted flaggers (Art 22, counted
apart), then the rest. Each new or merged report records `user_report.received`, which the
review console turns into (or adds to) a review task.

Reporters who file manifestly unfounded reports are warned first, then suspended from
reporting for a period (Art 23); marking a reporter invalidates all their pending reports
(audited). Reporters may ask to be told the outcome.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.core.clock import now
from haven.core.errors import Forbidden, Invalid, NotFound
from haven.core.ledger import audit, record_event
from haven.enforce.notices.models import NoticeCase, ReporterStanding, UserReport
from haven.enforce.settings import get_enforce_settings
from haven.enforce.statements import locale, msg, send_message
from haven.policy import PolicyInput, ReportView
from haven.policy.categories import get_category
from haven.policy.rules import Decision
from haven.screening.models import ContentItem
from haven.screening.rulesets import decide

PRIORITY_IMMINENT, PRIORITY_CHILD_SAFETY, PRIORITY_TRUSTED, PRIORITY_OTHER = 0, 1, 2, 3


def _priority(category: str, *, imminent: bool, trusted: bool) -> int:
    if imminent:
        return PRIORITY_IMMINENT
    if get_category(category).child_safety:
        return PRIORITY_CHILD_SAFETY
    if trusted:
        return PRIORITY_TRUSTED
    return PRIORITY_OTHER


def is_trusted(reporter_id: str | None) -> bool:

    return reporter_id is not None and reporter_id in get_enforce_settings().trusted_flaggers


def reporter_suspended_until(session: Session, reporter_id: str | None) -> datetime | None:
    if reporter_id is None:
        return None
    st = session.get(ReporterStanding, reporter_id)
    if st is None or st.suspended_until is None or st.suspended_until <= now():
        return None
    return st.suspended_until


def file_report(
    session: Session,
    *,
    integration_id: str,
    actor: str,
    reporter_id: str | None,
    reporter_name: str | None,
    reporter_email: str | None,
    target_type: str,
    target_id: str,
    location_url: str | None,
    category: str,
    explanation: str,
    good_faith: bool,
    imminent_risk: bool,
    notify_outcome: bool,
) -> tuple[UserReport, NoticeCase, bool]:
    """Record a notice and merge it into its target's open case; returns (report, case, merged)."""
    cat = get_category(category)
    anonymous = reporter_id is None and not (reporter_name and reporter_email)
    if anonymous and not cat.child_safety:
        raise Invalid(
            "a report needs the reporter (an id, or name and email); only child-safety reports may be anonymous",
            code="reporter_required",
        )
    if not good_faith:
        raise Invalid("a report needs the statement that it is made in good faith", code="good_faith_required")
    if notify_outcome and anonymous and not reporter_email:
        raise Invalid("to be told the outcome, give a reporter id or an email", code="contact_required")
    until = reporter_suspended_until(session, reporter_id)
    if until is not None:
        raise Forbidden(
            f"reports from this reporter are not processed until {until.isoformat()} (manifestly unfounded reports)",
            code="reporting_suspended",
            details={"until": until.isoformat()},
        )
    trusted = is_trusted(reporter_id)
    priority = _priority(category, imminent=imminent_risk, trusted=trusted)
    if target_type == "content":
        target_id = _haven_content_id(session, integration_id, target_id)
    case = session.scalar(
        select(NoticeCase)
        .where(NoticeCase.target_type == target_type, NoticeCase.target_id == target_id, NoticeCase.status == "open")
        .limit(1)
    )
    merged = case is not None
    if case is None:
        case = NoticeCase(
            target_type=target_type,
            target_id=target_id,
            location_url=location_url,
            category=category,
            priority=priority,
            opened_at=now(),
        )
        session.add(case)
        session.flush()
    elif priority < case.priority:
        case.priority = priority
        case.category = category
    case.reports_count += 1
    if trusted:
        case.trusted_reports += 1
    report = UserReport(
        case_id=case.id,
        integration_id=integration_id,
        reporter_id=reporter_id,
        reporter_name=reporter_name,
        reporter_email=reporter_email,
        trusted_flagger=trusted,
        category=category,
        explanation=explanation,
        location_url=location_url,
        good_faith=good_faith,
        imminent_risk=imminent_risk,
        notify_outcome=notify_outcome,
        received_at=now(),
    )
    session.add(report)
    session.flush()
    verdict = _policy(session, case)
    record_event(
        session,
        "user_report.received",
        subject_type="notice_case",
        subject_id=case.id,
        actor=actor,
        data={
            "case_id": case.id,
            "report_id": report.id,
            "merged": merged,
            "priority": case.priority,
            "category": case.category,
            "report_category": category,
            "child_safety": cat.child_safety,
            "imminent_risk": imminent_risk,
            "trusted_flagger": trusted,
            "anonymous": anonymous,
            "target_type": target_type,
            "target_id": target_id,
            "reports_count": case.reports_count,
            "verdict": verdict.verdict.action,
            "rule": verdict.verdict.rule,
            "reporter_id": reporter_id,
        },
    )
    return report, case, merged


def _haven_content_id(session: Session, integration_id: str, given: str) -> str:
    """Reports may name content by Haven's id or by the service's own id (external_id)."""

    if session.get(ContentItem, given) is not None:
        return given
    found = session.scalar(
        select(ContentItem.id)
        .where(ContentItem.integration_id == integration_id, ContentItem.external_id == given)
        .order_by(ContentItem.received_at.desc())
        .limit(1)
    )
    return found or given


def _policy(session: Session, case: NoticeCase) -> Decision:
    """What the policy rules say about the case's pending reports (the rule is named on the event,
    so a review task can show why it exists)."""

    reports = session.scalars(select(UserReport).where(UserReport.case_id == case.id, UserReport.status == "pending"))
    views = tuple(ReportView(r.category, r.trusted_flagger, r.imminent_risk) for r in reports)
    return decide(session, PolicyInput(reports=views))


def open_case_for(session: Session, targets: list[tuple[str, str]]) -> str | None:
    """The open case on any of these targets (a decision on reported content closes its case)."""
    for t_type, t_id in targets:
        case = session.scalar(
            select(NoticeCase.id)
            .where(NoticeCase.target_type == t_type, NoticeCase.target_id == t_id, NoticeCase.status == "open")
            .limit(1)
        )
        if case is not None:
            return case
    return None


def case_source_type(session: Session, case_id: str) -> str:
    """DSA source type of a decision on this case: trusted flagger if one reported it."""
    case = session.get(NoticeCase, case_id)
    if case is not None and case.trusted_reports:
        return "SOURCE_TRUSTED_FLAGGER"
    return "SOURCE_ARTICLE_16"


def get_case(session: Session, case_id: str) -> NoticeCase:
    case = session.get(NoticeCase, case_id)
    if case is None:
        raise NotFound(f"no report case '{case_id}'", code="case_not_found")
    return case


def close_case(session: Session, case_id: str, *, outcome: str, decision_id: str | None, actor: str) -> NoticeCase:
    """Close a case, resolve its pending reports and tell the reporters who asked (Art 16(5))."""

    case = get_case(session, case_id)
    if case.status == "closed":
        return case
    t = now()
    case.status = "closed"
    case.closed_at = t
    case.outcome = outcome
    case.decision_id = decision_id
    reports = list(
        session.scalars(select(UserReport).where(UserReport.case_id == case.id, UserReport.status == "pending"))
    )
    told = 0
    for r in reports:
        r.status = "resolved"
        r.resolved_at = t
        if r.notify_outcome and (r.reporter_id or r.reporter_email):
            text = msg(locale(), f"report.{outcome}", target=case.target_type, reference=r.id)
            text += " " + msg(
                "en",
                "report.redress",
                decision_id=decision_id or case.id,
                dispute_url=get_enforce_settings().dispute_settlement_url,
            )
            send_message(
                session,
                account_id=r.reporter_id or "",
                kind="report_outcome",
                subject=msg(locale(), "subject.report_outcome"),
                text=text,
                key=f"report-outcome:{r.id}",
                actor=actor,
                decision_id=None,
                extra={
                    "report_id": r.id,
                    "reporter_email": r.reporter_email if not r.reporter_id else None,
                    "outcome": outcome,
                    "case_id": case.id,
                    # what the reporter can appeal (Art 20(1)(a))
                    "decision_id": decision_id,
                },
            )
            told += 1
    record_event(
        session,
        "notice_case.closed",
        subject_type="notice_case",
        subject_id=case.id,
        actor=actor,
        data={
            "outcome": outcome,
            "decision_id": decision_id,
            "reports": len(reports),
            "reporters_told": told,
            "trusted_reports": case.trusted_reports,
            "priority": case.priority,
            "category": case.category,
        },
    )
    return case


def mark_unfounded(session: Session, reporter_id: str, *, actor: str, reason: str) -> dict[str, Any]:
    """A reporter's reports were manifestly unfounded: invalidate all their pending reports
    (audited); warn the first time, suspend reporting after a warning (Art 23)."""

    if not reason.strip():
        raise Invalid("say why the reports are manifestly unfounded", code="reason_required")
    t = now()
    st = session.get(ReporterStanding, reporter_id)
    reported = select(UserReport.id).where(UserReport.reporter_id == reporter_id).limit(1)
    if st is None and session.scalar(reported) is None:
        # A mistyped id must not warn someone who never reported anything.
        raise NotFound(f"no reports from reporter {reporter_id!r}: check the id", code="unknown_reporter")
    if st is None:
        st = ReporterStanding(reporter_id=reporter_id, unfounded_count=0)
        session.add(st)
    st.unfounded_count += 1
    st.reason = reason
    st.updated_at = t
    pending = list(
        session.scalars(select(UserReport).where(UserReport.reporter_id == reporter_id, UserReport.status == "pending"))
    )
    for r in pending:
        r.status = "invalidated"
        r.resolved_at = t
        case = session.get(NoticeCase, r.case_id)
        if case is not None and case.status == "open":
            case.reports_count = max(0, case.reports_count - 1)
            if r.trusted_flagger:
                case.trusted_reports = max(0, case.trusted_reports - 1)
            if case.reports_count == 0:
                case.status, case.closed_at, case.outcome = "closed", t, "invalidated"
    audit(
        session,
        actor=actor,
        action="reports.invalidate",
        object_type="reporter",
        object_id=reporter_id,
        purpose=reason,
        details={"report_ids": [r.id for r in pending]},
    )
    if st.warned_at is None:
        st.warned_at = t
        action = "warned"
        text = msg(locale(), "reporter.warning")
        subject = msg(locale(), "subject.reporter_warning")
    else:
        st.suspended_until = t + timedelta(days=get_enforce_settings().reporter_suspension_days)
        action = "suspended"
        text = msg(locale(), "reporter.suspended", until=st.suspended_until.date().isoformat())
        subject = msg(locale(), "subject.reporter_warning")
    send_message(
        session,
        account_id=reporter_id,
        kind=f"reporter_{action}",
        subject=subject,
        text=text,
        key=f"reporter:{reporter_id}:{st.unfounded_count}",
        actor=actor,
    )
    record_event(
        session,
        f"reporter.{action}",
        subject_type="reporter",
        subject_id=reporter_id,
        actor=actor,
        data={
            "invalidated": len(pending),
            "until": st.suspended_until.isoformat() if st.suspended_until else None,
            "art23": True,
        },
    )
    return {
        "reporter_id": reporter_id,
        "action": action,
        "invalidated": [r.id for r in pending],
        "suspended_until": st.suspended_until if action == "suspended" else None,
    }
