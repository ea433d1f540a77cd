"""Sharing out: Haven's own `local_confirmed` hashes, published to partners as a signed Haven
feed (`haven.exchange.feed`). Nothing leaves without an explicit per-partner setting that a staff
member turned on, recorded in the audit log; only banks of kind `local_confirmed` can be shared,
and an entry's own `source_ref` (file names, case notes) is never published.

The signing key is Ed25519, its seed derived from the instance's quarantine key (HKDF, purpose
"haven exchange feed signing v1"), so it needs no new secret and is stable across restarts;
`haven exchange publish --public-key` prints the public half partners pin.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from haven.banks.models import Bank, BankEntry, BankKind
from haven.banks.service import get_bank
from haven.core.clock import now
from haven.core.errors import Conflict, Forbidden, Invalid, NotFound
from haven.core.ledger import audit, record_event
from haven.core.settings import Settings, get_settings
from haven.exchange.feed import public_key_b64, render_page, signing_key_from_seed
from haven.exchange.models import ExchangePartner

MAX_PAGE = 5000


def signing_key(settings: Settings | None = None) -> Ed25519PrivateKey:
    return signing_key_from_seed((settings or get_settings()).derived_key(b"haven exchange feed signing v1"))


def public_key(settings: Settings | None = None) -> str:
    return public_key_b64(signing_key(settings))


def add_partner(
    session: Session, *, name: str, banks: list[str], integration_id: str | None, actor: str, ttl_days: int = 90
) -> ExchangePartner:
    if session.scalar(select(ExchangePartner.id).where(ExchangePartner.name == name)) is not None:
        raise Conflict(f"a partner named '{name}' exists", code="partner_exists")
    bank_ids = []
    for ref in banks:
        bank = get_bank(session, ref)
        if bank.kind != BankKind.local_confirmed.value:
            raise Invalid(
                f"bank '{bank.name}' is {bank.kind}: only local_confirmed banks (hashes this service's reviewers "
                "confirmed) can be shared; lists fetched from others are theirs to share",
                code="bank_not_shareable",
            )
        bank_ids.append(bank.id)
    if not 1 <= ttl_days <= 3650:
        raise Invalid("ttl_days is between 1 and 3650", code="invalid_ttl")
    partner = ExchangePartner(name=name, bank_ids=bank_ids, integration_id=integration_id, entry_ttl_days=ttl_days)
    session.add(partner)
    session.flush()
    audit(
        session,
        actor=actor,
        action="exchange.partner_add",
        object_type="exchange_partner",
        object_id=partner.id,
        details={"banks": bank_ids, "sharing_enabled": False},
    )
    return partner


def get_partner(session: Session, name_or_id: str) -> ExchangePartner:
    row = session.get(ExchangePartner, name_or_id) or session.scalar(
        select(ExchangePartner).where(ExchangePartner.name == name_or_id)
    )
    if row is None:
        raise NotFound(f"no partner '{name_or_id}'", code="partner_not_found")
    return row


def set_sharing(
    session: Session, partner: ExchangePartner, enabled: bool, *, actor: str, reason: str
) -> ExchangePartner:
    """The staff decision to share (or stop sharing) with a partner: audited with its reason."""
    if not actor.startswith("staff:"):
        raise Forbidden(
            "sharing with a partner is a staff decision (haven exchange share --staff ...)", code="staff_required"
        )
    if enabled and not reason.strip():
        raise Invalid("say why this partner may receive the hashes (--reason)", code="reason_required")
    partner.sharing_enabled = enabled
    partner.approved_by = actor if enabled else None
    partner.approved_at = now() if enabled else None
    audit(
        session,
        actor=actor,
        action="exchange.sharing_" + ("enabled" if enabled else "disabled"),
        object_type="exchange_partner",
        object_id=partner.id,
        details={"reason": reason, "banks": partner.bank_ids},
    )
    record_event(
        session,
        "exchange.sharing_changed",
        subject_type="exchange_partner",
        subject_id=partner.id,
        actor=actor,
        data={"enabled": enabled, "banks": list(partner.bank_ids)},
    )
    return partner


def _cursor(raw: str) -> tuple[int, str]:
    if not raw:
        return (0, "")
    seq, _, entry_id = raw.partition(":")
    if not seq.isdigit():
        raise Invalid("after is '<seq>:<entry id>' from the previous page's end line", code="invalid_cursor")
    return int(seq), entry_id


def feed_page(
    session: Session, partner: ExchangePartner, *, after: str, limit: int, settings: Settings | None = None
) -> str:
    """One signed page of the partner's feed after the cursor."""
    if not partner.sharing_enabled:
        raise Forbidden("sharing with this partner has not been enabled by staff", code="sharing_disabled")
    limit = max(1, min(limit, MAX_PAGE))
    seq, entry_id = _cursor(after)
    banks = {b.id: b for b in session.scalars(select(Bank).where(Bank.id.in_(partner.bank_ids or [])))}
    rows = list(
        session.scalars(
            select(BankEntry)
            .where(
                BankEntry.bank_id.in_(list(banks)),
                BankEntry.variant_of.is_(None),
                tuple_(BankEntry.change_seq, BankEntry.id) > tuple_(seq, entry_id),
            )
            .order_by(BankEntry.change_seq, BankEntry.id)
            .limit(limit + 1)
        )
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    s = settings or get_settings()
    publisher = s.public_url or "haven"
    ttl = timedelta(days=partner.entry_ttl_days)
    entries: list[dict[str, Any]] = []
    for e in rows:
        live = e.enabled and banks[e.bank_id].enabled
        entries.append(
            {
                "seq": f"{e.change_seq}:{e.id}",
                "id": e.id,
                "op": "add" if live else "delete",
                "signal_type": e.signal_type,
                "value": e.value,
                "classification": e.classification,
                "confidence": "confirmed",
                "labels": [banks[e.bank_id].kind],
                "list": banks[e.bank_id].name,
                "publisher": str(publisher),
                "published_at": e.created_at.isoformat(),
                "expires_at": (now() + ttl).isoformat(),
            }
        )
    next_after = entries[-1]["seq"] if entries else after
    if rows:
        audit(
            session,
            actor=f"partner:{partner.id}",
            action="exchange.feed_served",
            object_type="exchange_partner",
            object_id=partner.id,
            details={"entries": len(rows), "after": after},
        )
    return render_page(
        publisher=str(publisher), key=signing_key(s), entries=entries, next_after=next_after, has_more=has_more
    )
