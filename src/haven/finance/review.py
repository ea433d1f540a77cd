"""What a reviewer sees of a financial task: the money trail of the payee's account (the payments
it received and sent, the flagged ones marked, with the rules and indicators behind them) and the
restrictions in force on the accounts involved. For the review console, beside the conversation
and content of the same accounts; every call is an access to financial data and is written to
the audit log (`finance.trail_view`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from haven.accounts.bands import MINOR_BANDS
from haven.accounts.models import Account
from haven.core.ledger import audit
from haven.finance.models import FinanceRestriction, Transaction
from haven.review.models import ReviewTask
from haven.review.panels import register

#: How many payments of the account the page shows (newest first); the flagged ones always.
TRAIL_LIMIT = 100


def money_trail_for_review(
    session: Session,
    account_id: str,
    flagged_ids: list[str],
    *,
    actor: str,
    purpose: str,
    source_ip: str | None = None,
    limit: int = TRAIL_LIMIT,
) -> dict[str, Any]:
    """The payments to and from `account_id` (newest first, at most `limit`, the flagged ones
    always included) and the restrictions on it and its counterparties; the caller has checked
    the actor's access to the task."""
    flagged = set(flagged_ids)
    rows = list(
        session.scalars(
            select(Transaction)
            .where(or_(Transaction.payee == account_id, Transaction.payer == account_id))
            .order_by(Transaction.occurred_at.desc())
            .limit(limit)
        )
    )
    missing = flagged - {r.id for r in rows}
    if missing:
        rows += list(session.scalars(select(Transaction).where(Transaction.id.in_(missing))))
        rows.sort(key=lambda r: r.occurred_at, reverse=True)
    parties = sorted({account_id} | {r.payer for r in rows} | {r.payee for r in rows})
    audit(
        session,
        actor=actor,
        action="finance.trail_view",
        object_type="account",
        object_id=account_id,
        purpose=purpose,
        source_ip=source_ip,
        details={"transactions": len(rows), "flagged": sorted(flagged)},
    )
    bands = dict(session.execute(select(Account.id, Account.age_band).where(Account.id.in_(parties))).all())
    restrictions = [
        {"account_id": r.account_id, "kind": r.kind, "status": r.status, "since": r.created_at, "reason": r.reason}
        for r in session.scalars(
            select(FinanceRestriction)
            .where(FinanceRestriction.account_id.in_(parties))
            .order_by(FinanceRestriction.account_id, FinanceRestriction.kind)
        )
    ]
    received = [r for r in rows if r.payee == account_id]
    return {
        "account_id": account_id,
        "transactions": [
            {
                "id": r.id,
                "external_id": r.external_id,
                "direction": "in" if r.payee == account_id else "out",
                "counterparty": r.payer if r.payee == account_id else r.payee,
                "counterparty_band": bands.get(r.payer if r.payee == account_id else r.payee, "unknown"),
                "kind": r.kind,
                "amount": r.amount,
                "currency": r.currency,
                "route": f"{r.payer_country or '?'} → {r.payee_country or '?'}",
                "memo": r.memo,
                "occurred_at": r.occurred_at,
                "outcome": r.outcome,
                "status": r.status,
                "rule": r.rule,
                "indicators": list(r.indicators),
                "flagged": r.id in flagged,
            }
            for r in rows
        ],
        "payers": len({r.payer for r in received}),
        "minor_payers": len({r.payer for r in received if bands.get(r.payer) in MINOR_BANDS}),
        "restrictions": restrictions,
        "bands": bands,
        "truncated": len(rows) >= limit,
    }


@register("financial")
def trail_panel(
    session: Session, task: ReviewTask, *, actor: str, purpose: str, source_ip: str | None
) -> dict[str, Any] | None:
    """The financial task page's money trail (registered with review's task page)."""
    return money_trail_for_review(
        session,
        task.subject_id,
        [str(t) for t in (task.details or {}).get("transaction_ids") or []],
        actor=actor,
        purpose=purpose,
        source_ip=source_ip,
    )
