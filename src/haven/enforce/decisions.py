"""Carrying out decisions: content removal, strikes and the ladder, account state, statements of
reasons, reporters told the outcome; and reversing all of it when a decision is overturned.

A decision comes from a human (`review.decision` events of the review console) or from a policy
rule on a known-material match (`content.verdict` events with a block verdict). Applying is
idempotent: a decision is keyed by its source reference, and every webhook by a key derived from
the decision and the subject, so a redelivered event changes nothing and sends nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from haven.accounts.models import Account
from haven.core.clock import now
from haven.core.errors import NotFound
from haven.core.jobs import RetryLater, enqueue, handler
from haven.core.ledger import audit, record_event
from haven.core.settings import get_settings
from haven.enforce import statements, strikes
from haven.enforce.ladder import Outcome, assess
from haven.enforce.models import DecisionAlias, EnforcementAction, EnforcementDecision
from haven.enforce.notices.service import case_source_type, close_case, get_case, open_case_for
from haven.enforce.webhooks import deliver
from haven.policy.categories import CATEGORIES
from haven.screening.models import ContentItem
from haven.terms import service as terms

#: Account states, from least to most restrictive.
STATE_ORDER = ("active", "restricted", "suspended", "terminated")
ACCOUNT_ACTION_STATE = {
    "account.restrict": "restricted",
    "account.suspend": "suspended",
    "account.terminate": "terminated",
}


@dataclass
class DecisionInput:
    source: str  # review, policy
    source_ref: str
    subject_type: str
    subject_id: str
    category: str
    account_id: str | None
    content_ids: list[str] = field(default_factory=list)
    automated_detection: bool = False
    automated_decision: str = "AUTOMATED_DECISION_NOT_AUTOMATED"
    deciders: list[str] = field(default_factory=list)
    rule: str | None = None
    notice_case_id: str | None = None
    #: Apply the ladder to the account (strikes, restrictions); False only removes content.
    ladder: bool = True
    severity: str | None = None
    #: An account action a policy rule names explicitly; the ladder's outcome is raised to it.
    force_action: str | None = None


def find_decision(session: Session, ref: str) -> EnforcementDecision | None:
    """A decision by its id or by its source reference (e.g. the review console's decision id)."""
    found = session.get(EnforcementDecision, ref) or session.scalar(
        select(EnforcementDecision).where(EnforcementDecision.source_ref == ref)
    )
    if found is None:
        alias = session.get(DecisionAlias, ref)
        found = session.get(EnforcementDecision, alias.decision_id) if alias else None
    return found


def _confirmed(session: Session, inp: DecisionInput, actor: str) -> EnforcementDecision | None:
    """A standing violation decision on exactly this content and category (for example a block by
    a rule on known material, then a reviewer confirming it): the new decision confirms it and
    takes no action twice (no second removal, strike or statement)."""
    if not inp.content_ids:
        return None
    wanted = set(inp.content_ids)
    removals = session.scalars(
        select(EnforcementAction.decision_id).where(
            EnforcementAction.action_type == "content.remove",
            EnforcementAction.subject_id.in_(wanted),
            EnforcementAction.reversed_at.is_(None),
        )
    )
    prior = None
    for decision_id in dict.fromkeys(removals):
        d = session.get(EnforcementDecision, decision_id)
        if (
            d is not None
            and d.category == inp.category
            and d.overturned_at is None
            and wanted <= set(d.content_ids or [])
        ):
            prior = d
            break
    if prior is None:
        return None
    session.add(DecisionAlias(ref=inp.source_ref, decision_id=prior.id))
    prior.deciders = sorted(set(prior.deciders) | set(inp.deciders))
    record_event(
        session,
        "enforcement.confirmed",
        subject_type=inp.subject_type,
        subject_id=inp.subject_id,
        actor=actor,
        data={"decision_id": prior.id, "source_ref": inp.source_ref, "source": inp.source},
    )
    return prior


def _terms_url_for(session: Session) -> str:

    return terms.public_url(get_settings().public_url, terms.current(session).version)


def account_state(session: Session, account_id: str, at: datetime | None = None) -> str:
    """The state an account's standing actions give it (the most restrictive one in force)."""
    t = at or now()
    rows = session.scalars(
        select(EnforcementAction).where(
            EnforcementAction.subject_type == "account",
            EnforcementAction.subject_id == account_id,
            EnforcementAction.reversed_at.is_(None),
        )
    )
    state = "active"
    for r in rows:
        s = ACCOUNT_ACTION_STATE.get(r.action_type)
        if s is None or (r.until is not None and r.until <= t):
            continue
        if STATE_ORDER.index(s) > STATE_ORDER.index(state):
            state = s
    return state


def sync_account_state(session: Session, account_id: str, *, actor: str, reason: str) -> tuple[str, str]:
    """Set `Account.state` from the actions in force; record the change. Returns (before, after)."""
    acct = session.get(Account, account_id)
    if acct is None:
        acct = Account(id=account_id)
        session.add(acct)
        session.flush()
    before = acct.state
    after = account_state(session, account_id)
    if before != after:
        acct.state = after
        record_event(
            session,
            "account.state_changed",
            subject_type="account",
            subject_id=account_id,
            actor=actor,
            data={"from": before, "to": after, "reason": reason},
        )
        audit(
            session,
            actor=actor,
            action="account.state",
            object_type="account",
            object_id=account_id,
            details={"from": before, "to": after, "reason": reason},
        )
    return before, after


def _source_type(session: Session, case_id: str | None) -> str:
    if case_id is None:
        return "SOURCE_VOLUNTARY"

    return case_source_type(session, case_id)


def apply(session: Session, inp: DecisionInput, *, actor: str) -> EnforcementDecision:
    """Carry out a violation decision (idempotent on `source_ref`)."""
    existing = session.scalar(select(EnforcementDecision).where(EnforcementDecision.source_ref == inp.source_ref))
    if existing is not None:
        return existing
    if session.get(DecisionAlias, inp.source_ref) is not None:
        return find_decision(session, inp.source_ref)  # type: ignore[return-value]
    if inp.category not in CATEGORIES:
        raise NotFound(f"unknown category '{inp.category}'", code="unknown_category")
    confirmed = _confirmed(session, inp, actor)
    if confirmed is not None:
        return confirmed
    t = now()
    items = [session.get(ContentItem, cid) for cid in inp.content_ids]
    contents = [c for c in items if c is not None]
    account_id = inp.account_id or next((c.uploader for c in contents if c.uploader), None)
    case_id = inp.notice_case_id
    if case_id is None:
        targets = [("content", c.id) for c in contents] + ([("account", account_id)] if account_id else [])
        case_id = open_case_for(session, targets)
    decision = EnforcementDecision(
        source=inp.source,
        source_ref=inp.source_ref,
        subject_type=inp.subject_type,
        subject_id=inp.subject_id,
        account_id=account_id,
        category=inp.category,
        content_ids=[c.id for c in contents],
        automated_detection=inp.automated_detection,
        automated_decision=inp.automated_decision,
        source_type=_source_type(session, case_id),
        notice_case_id=case_id,
        deciders=inp.deciders,
        rule=inp.rule,
        created_at=t,
    )
    session.add(decision)
    session.flush()
    restrictions: list[statements.Restriction] = []
    hold = statements.active_hold(session, account_id) if account_id else None
    for c in contents:
        session.add(
            EnforcementAction(
                decision_id=decision.id,
                action_type="content.remove",
                subject_type="content",
                subject_id=c.id,
                created_at=t,
            )
        )
        deliver(
            session,
            "content.remove",
            {
                "content_id": c.id,
                "external_id": c.external_id,
                "account_id": c.uploader,
                "decision_id": decision.id,
                "category": inp.category,
            },
            subject_type="content",
            subject_id=c.id,
            actor=actor,
            idempotency_key=f"{decision.id}:content.remove:{c.id}",
            decision_id=decision.id,
        )
    if contents:
        restrictions.append(statements.Restriction("content.remove", count=len(contents)))
    outcome: Outcome | None = None
    if account_id and inp.ladder:
        cfg = strikes.ladder()
        prior = session.scalar(
            select(func.count())
            .select_from(EnforcementDecision)
            .where(
                EnforcementDecision.account_id == account_id,
                EnforcementDecision.category == inp.category,
                EnforcementDecision.outcome == "violation",
                EnforcementDecision.overturned_at.is_(None),
                EnforcementDecision.id != decision.id,
            )
        )
        outcome = assess(
            cfg,
            inp.category,
            strikes.views(strikes.strikes_of(session, account_id)),
            t,
            severity=inp.severity,
            prior_in_category=int(prior or 0),
        )
        if inp.force_action:
            forced = inp.force_action.removeprefix("account.")
            order = ("warning", "restrict", "suspend", "terminate")
            if order.index(forced) > order.index(outcome.action):
                outcome = replace(outcome, action=forced, features=outcome.features or ("messaging", "uploads"))  # type: ignore[arg-type]
        decision.ladder = outcome.to_dict()
        strikes.add(
            session, account_id=account_id, decision_id=decision.id, category=inp.category, outcome=outcome, actor=actor
        )
        r = _account_action(session, decision, outcome, account_id, notify_user=hold is None, actor=actor)
        if r is not None:
            restrictions.append(r)
        sync_account_state(session, account_id, actor=actor, reason=f"decision {decision.id}")
    record_event(
        session,
        "enforcement.decided",
        subject_type=inp.subject_type,
        subject_id=inp.subject_id,
        actor=actor,
        data={
            "decision_id": decision.id,
            "source": inp.source,
            "source_ref": inp.source_ref,
            "category": inp.category,
            "account_id": account_id,
            "content_ids": decision.content_ids,
            "source_type": decision.source_type,
            "automated_detection": inp.automated_detection,
            "automated_decision": inp.automated_decision,
            "ladder": decision.ladder,
            "restrictions": [r.action for r in restrictions],
        },
    )
    if restrictions:
        content_date = min((c.received_at for c in contents), default=t).date()
        statements.create_statement(
            session,
            decision,
            restrictions,
            content_kinds=[c.media_kind for c in contents],
            content_date=content_date if content_date >= date(2000, 1, 1) else t.date(),
            terms_url=_terms_url_for(session),
            actor=actor,
        )
    elif account_id:
        cat = CATEGORIES[inp.category]
        statements.send_message(
            session,
            account_id=account_id,
            kind="warning",
            subject=statements.msg(statements.locale(), "subject.warning"),
            text=statements.msg(
                "en",
                "warning.text",
                title_lower=cat.title[0].lower() + cat.title[1:],
                clause=cat.tos_clause,
                terms_url=_terms_url_for(session),
            ),
            key=f"{decision.id}:warning",
            actor=actor,
            decision_id=decision.id,
        )
    if case_id:
        close_case(session, case_id, outcome="violation", decision_id=decision.id, actor=actor)
    return decision


def _target_account(session: Session, target_type: str, target_id: str) -> str | None:
    if target_type == "account":
        return target_id
    item = session.get(ContentItem, target_id)
    return item.uploader if item is not None else None


def record_no_violation(
    session: Session, *, source_ref: str, case_id: str, deciders: list[str], actor: str
) -> EnforcementDecision:
    """Record the decision not to act on a notice, so its notifiers can appeal it (Art 20(1))."""

    existing = session.scalar(select(EnforcementDecision).where(EnforcementDecision.source_ref == source_ref))
    if existing is not None:
        return existing
    case = get_case(session, case_id)
    decision = EnforcementDecision(
        source="review",
        source_ref=source_ref,
        subject_type=case.target_type,
        subject_id=case.target_id,
        account_id=_target_account(session, case.target_type, case.target_id),
        category=case.category,
        outcome="no_violation",
        content_ids=[case.target_id] if case.target_type == "content" else [],
        automated_detection=False,
        automated_decision="AUTOMATED_DECISION_NOT_AUTOMATED",
        source_type=_source_type(session, case_id),
        notice_case_id=case_id,
        deciders=deciders,
        created_at=now(),
    )
    session.add(decision)
    session.flush()
    record_event(
        session,
        "enforcement.no_violation",
        subject_type=case.target_type,
        subject_id=case.target_id,
        actor=actor,
        data={
            "decision_id": decision.id,
            "case_id": case_id,
            "category": case.category,
            "source_type": decision.source_type,
        },
    )
    close_case(session, case_id, outcome="no_violation", decision_id=decision.id, actor=actor)
    return decision


def _account_action(
    session: Session, decision: EnforcementDecision, outcome: Outcome, account_id: str, *, notify_user: bool, actor: str
) -> statements.Restriction | None:
    if outcome.action == "warning":
        return None
    action = f"account.{outcome.action}"
    until = decision.created_at + timedelta(days=outcome.duration_days) if outcome.duration_days else None
    params: dict[str, Any] = {"features": list(outcome.features)} if outcome.features else {}
    row = EnforcementAction(
        decision_id=decision.id,
        action_type=action,
        subject_type="account",
        subject_id=account_id,
        params=params,
        until=until,
        created_at=decision.created_at,
    )
    session.add(row)
    session.flush()
    deliver(
        session,
        action,
        {
            "account_id": account_id,
            "decision_id": decision.id,
            "category": decision.category,
            "features": list(outcome.features) or None,
            "until": until.isoformat() if until else None,
            "duration_days": outcome.duration_days,
            # False while a law-enforcement hold asks that the user is not told yet.
            "notify_user": notify_user,
        },
        subject_type="account",
        subject_id=account_id,
        actor=actor,
        idempotency_key=f"{decision.id}:{action}:{account_id}",
        decision_id=decision.id,
    )
    if until is not None:
        enqueue(
            session,
            "enforce.expire_action",
            {"action_id": row.id},
            dedupe_key=f"expire:{row.id}",
            delay=(until - now()).total_seconds(),
        )
    return statements.Restriction(action, until=until, features=outcome.features)


@handler("enforce.expire_action")
def _expire(db: Any, job: Any) -> None:
    """When a suspension or restriction ends, bring the account's state back in line."""
    with db.session() as s:
        row = s.get(EnforcementAction, job.payload["action_id"])
        if row is None or row.reversed_at is not None:
            return
        if row.until is not None and row.until > now():
            raise RetryLater("not due", (row.until - now()).total_seconds())
        sync_account_state(s, row.subject_id, actor="system:haven", reason=f"{row.action_type} ended")


def overturn(session: Session, decision: EnforcementDecision, *, actor: str, reason: str) -> list[str]:
    """Reverse a decision: restore content, lift account actions, remove strikes. Returns the
    action types delivered. Idempotent: an overturned decision is not reversed twice."""
    if decision.overturned_at is not None:
        return []
    t = now()
    decision.overturned_at = t
    decision.overturned_by = actor
    sent: list[str] = []
    rows = list(
        session.scalars(
            select(EnforcementAction).where(
                EnforcementAction.decision_id == decision.id, EnforcementAction.reversed_at.is_(None)
            )
        )
    )
    for r in rows:
        r.reversed_at = t
        if r.action_type == "content.remove":
            item = session.get(ContentItem, r.subject_id)
            deliver(
                session,
                "content.restore",
                {
                    "content_id": r.subject_id,
                    "external_id": item.external_id if item else None,
                    "decision_id": decision.id,
                    "reason": reason,
                },
                subject_type="content",
                subject_id=r.subject_id,
                actor=actor,
                idempotency_key=f"{decision.id}:content.restore:{r.subject_id}",
                decision_id=decision.id,
            )
            sent.append("content.restore")
    strikes.remove_for_decision(session, decision.id, reason=f"decision overturned: {reason}", actor=actor)
    if decision.account_id:
        before, after = sync_account_state(
            session, decision.account_id, actor=actor, reason=f"decision {decision.id} overturned"
        )
        if any(r.action_type in ACCOUNT_ACTION_STATE for r in rows):
            deliver(
                session,
                "account.reinstate",
                {
                    "account_id": decision.account_id,
                    "decision_id": decision.id,
                    "previous_state": before,
                    "state": after,
                    "reason": reason,
                },
                subject_type="account",
                subject_id=decision.account_id,
                actor=actor,
                idempotency_key=f"{decision.id}:account.reinstate:{decision.account_id}",
                decision_id=decision.id,
            )
            sent.append("account.reinstate")
    record_event(
        session,
        "enforcement.overturned",
        subject_type=decision.subject_type,
        subject_id=decision.subject_id,
        actor=actor,
        data={"decision_id": decision.id, "reason": reason, "reversed": sent, "category": decision.category},
    )
    return sent


def decisions_for_account(session: Session, account_id: str) -> list[EnforcementDecision]:
    return list(
        session.scalars(
            select(EnforcementDecision)
            .where(or_(EnforcementDecision.account_id == account_id, EnforcementDecision.subject_id == account_id))
            .order_by(EnforcementDecision.created_at)
        )
    )
