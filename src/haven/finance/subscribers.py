"""What finance does with other capabilities' events: it remembers what Haven's own detectors said
of accounts (flagged conversations, bank hits, confirmed uploaders) as `finance_links`, read by
every payment screened afterwards; and it carries out reviewers' decisions on financial tasks
(release, keep). Each handler is idempotent per event (primary keys, statuses)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.core.auth import integration_is_test
from haven.core.clock import now
from haven.core.ledger import record_event, subscribe
from haven.core.models import Event
from haven.enforce.webhooks import deliver
from haven.finance.models import DetectorLink, FinanceRestriction, Transaction
from haven.finance.service import state_key
from haven.screening.mode import traffic_is_test

CSAM_CATEGORIES = frozenset({"csam", "csam_generated"})


def _link(session: Session, account: str, other: str, kind: str, ref: str, test: bool = False) -> None:
    """Remember a link; one found in a test-mode key's traffic is kept in the test namespace, where
    only test-mode payments read it (`haven.finance.service.state_key`)."""
    if not account:
        return
    account, other = state_key(account, test), state_key(other, test) if other else ""
    if session.get(DetectorLink, (account, other, kind, ref)) is None:
        session.add(DetectorLink(account_id=account, other=other, kind=kind, ref=ref, created_at=now()))
        session.flush()


@subscribe("conversation.flagged", name="finance-conversations")
def link_conversation(session: Session, event: Event) -> None:
    """Sender and recipients of a flagged conversation are linked pairwise (`<family>_conversation`),
    the sender as `<family>_sender`, each recipient as `<family>_target`."""
    d = event.data or {}
    family = str(d.get("family") or "grooming")
    conv = str(d.get("conversation_id") or event.subject_id)
    sender = str(d.get("sender") or "")
    test = traffic_is_test(session, conversation_ids=[conv])
    for r in [str(x) for x in d.get("recipients") or [] if str(x) != sender]:
        _link(session, sender, r, f"{family}_conversation", conv, test)
        _link(session, r, sender, f"{family}_conversation", conv, test)
        _link(session, r, "", f"{family}_target", conv, test)
    _link(session, sender, "", f"{family}_sender", conv, test)


def _bank_hit(d: Mapping[str, Any]) -> bool:
    return bool(d.get("action") == "block" and d.get("matched_entries") and d.get("uploader"))


@subscribe("content.verdict", name="finance-content", when=_bank_hit)
def link_content(session: Session, event: Event) -> None:
    """An uploader whose content was blocked on a bank match is linked as `bank_hit`."""
    d = event.data or {}
    if _bank_hit(d):
        test = traffic_is_test(session, content_ids=[event.subject_id])
        _link(session, str(d["uploader"]), "", "bank_hit", event.subject_id, test)


@subscribe("review.decision", name="finance-review")
def on_review_decision(session: Session, event: Event) -> None:
    """A confirmed violation of child sexual abuse material links its uploader (`csam_uploader`);
    a decision on a financial task releases (no violation) or keeps (violation) the payments held
    to that payee, lifting or keeping its restrictions; escalations wait for the senior's decision."""
    d = event.data or {}
    decision = str(d.get("decision") or "")
    if decision == "violation" and str(d.get("category") or "") in CSAM_CATEGORIES and d.get("uploader"):
        test = traffic_is_test(session, content_ids=[str(c) for c in d.get("content_ids") or []])
        _link(session, str(d["uploader"]), "", "csam_uploader", str(d.get("decision_id") or event.id), test)
    if d.get("queue") not in ("financial", "escalations") or event.subject_type != "account":
        return
    if decision not in ("violation", "no_violation"):
        return
    payee = event.subject_id
    held = list(
        session.scalars(
            select(Transaction).where(Transaction.payee == payee, Transaction.status.in_(("held", "review")))
        )
    )
    if d.get("queue") == "escalations" and not held:
        return
    status = "kept" if decision == "violation" else "released"
    decision_id = str(d.get("decision_id") or event.id)
    # Payments of test-mode keys settle the same way; their webhooks say "mode": "test" and their
    # restrictions are the test namespace's (haven.finance.service.state_key).
    tests = {i for i in {tx.integration_id for tx in held} if integration_is_test(session, [i])}
    for tx in held:
        test = tx.integration_id in tests
        was_held = tx.status == "held"
        tx.status = status
        if was_held:
            deliver(
                session,
                "transaction.release" if status == "released" else "transaction.decline",
                {
                    "transaction_id": tx.id,
                    "external_id": tx.external_id,
                    "payer": tx.payer,
                    "payee": tx.payee,
                    "decision_id": decision_id,
                    **({"mode": "test"} if test else {}),
                },
                subject_type="account",
                subject_id=tx.payer,
                actor=event.actor,
                idempotency_key=f"transaction.settled:{tx.id}",
            )
        record_event(
            session,
            "transaction.settled",
            subject_type="transaction",
            subject_id=tx.id,
            actor=event.actor,
            data={"status": status, "decision_id": decision_id, "reviewer": str(d.get("reviewer") or event.actor)},
        )
    if status != "released":
        return
    modes = sorted({tx.integration_id in tests for tx in held})
    lifts = [(payee, "payouts_frozen", "account.unfreeze_payouts", t) for t in modes or [False]]
    lifts += sorted(
        {(tx.payer, "new_payees_limited", "account.unlimit_new_payees", tx.integration_id in tests) for tx in held}
    )
    for acc, kind, action, test in lifts:
        row = session.get(FinanceRestriction, (state_key(acc, test), kind))
        if row is None or row.status != "active":
            continue
        row.status, row.lifted_at = "lifted", now()
        deliver(
            session,
            action,
            {"account_id": acc, "decision_id": decision_id, **({"mode": "test"} if test else {})},
            subject_type="account",
            subject_id=acc,
            actor=event.actor,
            idempotency_key=f"{action}:{state_key(acc, test)}:{decision_id}",
        )
        record_event(
            session,
            "finance.restriction_lifted",
            subject_type="account",
            subject_id=acc,
            actor=event.actor,
            data={"kind": kind, "decision_id": decision_id, **({"mode": "test"} if test else {})},
        )
