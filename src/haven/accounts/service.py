"""Accounts: declared age bands, blocks, and the account rows other capabilities touch."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.accounts.models import AGE_BANDS, Account, Block
from haven.core.clock import now
from haven.core.errors import Invalid
from haven.core.ledger import record_event


def ensure_accounts(session: Session, ids: list[str]) -> dict[str, Account]:
    """The rows of these accounts, creating unknown ones (age band "unknown") in the caller's
    transaction: a service names accounts by its own ids and never registers them first."""
    found = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(ids)))}
    for i in ids:
        if i not in found:
            acc = Account(id=i, age_band="unknown")
            session.add(acc)
            found[i] = acc
    session.flush()
    return found


def touch_account(session: Session, account_id: str | None) -> None:
    """Create the account row if the service has not named this account before."""
    if account_id and session.get(Account, account_id) is None:
        session.add(Account(id=account_id))
        session.flush()


def set_age_band(session: Session, account_id: str, age_band: str, *, actor: str, source: str = "declared") -> Account:
    """Set an account's age band: `declared` by the service, or `assured` (the youth capability,
    from age signals). A declaration never overrides an assured band: the event still tells of
    it (youth keeps it as a self-declaration signal, which may ask for re-assurance)."""
    if age_band not in AGE_BANDS:
        raise Invalid(f"age_band must be one of {', '.join(AGE_BANDS)}", code="invalid_age_band")
    acc = session.get(Account, account_id)
    old = acc.age_band if acc else None
    if acc is None:
        acc = Account(id=account_id, age_band=age_band, age_source=source)
        session.add(acc)
    if source == "assured" or acc.age_source != "assured":
        acc.age_band = age_band
        acc.age_source = source
    session.flush()
    record_event(
        session,
        "account.age_band_set",
        subject_type="account",
        subject_id=account_id,
        actor=actor,
        data={"old": old, "new": age_band, "source": source},
    )
    return acc


def record_block(session: Session, blocker: str, blocked: str, *, actor: str) -> bool:
    """Remember that `blocker` blocked `blocked`; returns False when it was already known."""
    if blocker == blocked:
        raise Invalid("an account cannot block itself", code="invalid_block")
    ensure_accounts(session, [blocker, blocked])
    if session.get(Block, (blocker, blocked)) is not None:
        return False
    session.add(Block(blocker=blocker, blocked=blocked, created_at=now()))
    record_event(
        session, "account.blocked", subject_type="account", subject_id=blocker, actor=actor, data={"blocked": blocked}
    )
    return True
