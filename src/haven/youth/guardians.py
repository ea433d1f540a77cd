"""Parental controls with the teen's consent: a guardian link the service creates, the teen
confirms with a short-lived code, either side revokes, and the teen always sees. A guardian sees
metadata only (new contacts, groups joined, time spent, purchases, whether the teen reported
something; never message text or media), every read audited, and approves loosening a default
for under-16s and purchases above the cap."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from haven.accounts.models import Contact
from haven.accounts.service import ensure_accounts
from haven.core.clock import new_id, now
from haven.core.errors import Conflict, Forbidden, Invalid, NotFound
from haven.core.ledger import audit, record_event
from haven.enforce.models import Delivery
from haven.enforce.webhooks import deliver
from haven.youth.assurance import band_range
from haven.youth.config import SETTINGS, get_config
from haven.youth.models import Activity, Connection, GuardianApproval, Guardianship, ProtectionOverride
from haven.youth.service import current, protections_for, tell_protections

ACTIVITY_KINDS = ("time_spent", "group_joined", "purchase", "report_filed")


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _event(session: Session, type_: str, g: Guardianship, actor: str, **extra: Any) -> None:
    record_event(
        session,
        type_,
        subject_type="guardianship",
        subject_id=g.id,
        actor=actor,
        data={"guardian_id": g.guardian_id, "teen_id": g.teen_id, **extra},
    )


def get(session: Session, link_id: str) -> Guardianship:
    g = session.get(Guardianship, link_id)
    if g is None:
        raise NotFound("no such guardianship", code="guardianship_not_found")
    return g


def create(session: Session, guardian_id: str, teen_id: str, *, actor: str) -> tuple[Guardianship, str]:
    """A pending link and the code the teen must enter (shown once, stored only as a hash)."""
    if guardian_id == teen_id:
        raise Invalid("an account cannot be its own guardian", code="invalid_guardianship")
    teen = current(session, teen_id)
    top = band_range(teen.age_band)[1]
    if teen.age_band == "unknown" or top is None:
        raise Invalid("parental controls are for accounts assured as minors", code="not_a_minor")
    ensure_accounts(session, [guardian_id, teen_id])
    if (
        session.scalar(
            select(Guardianship).where(
                Guardianship.guardian_id == guardian_id,
                Guardianship.teen_id == teen_id,
                Guardianship.status.in_(("pending", "active")),
            )
        )
        is not None
    ):
        raise Conflict("this guardian already has a pending or active link to this teen", code="guardianship_exists")
    code = f"{secrets.randbelow(10**8):08d}"
    g = Guardianship(
        id=new_id(),
        guardian_id=guardian_id,
        teen_id=teen_id,
        status="pending",
        code_hash=_hash(code),
        code_expires_at=now() + timedelta(minutes=get_config().guardians.code_minutes),
        created_at=now(),
    )
    session.add(g)
    session.flush()
    _event(session, "guardian.link_created", g, actor)
    return g, code


def confirm(session: Session, link_id: str, teen_id: str, code: str, *, actor: str) -> Guardianship:
    g = get(session, link_id)
    if g.teen_id != teen_id:
        raise Forbidden("only the teen confirms a guardian link", code="not_the_teen")
    if g.status != "pending":
        raise Conflict(f"this link is {g.status}", code="guardianship_not_pending")
    if g.code_expires_at is None or g.code_expires_at <= now():
        raise Invalid("the code has expired; create a new link", code="code_expired")
    if not hmac.compare_digest(g.code_hash or "", _hash(code)):
        raise Invalid("wrong code", code="wrong_code")
    g.status, g.confirmed_at, g.code_hash = "active", now(), None
    _event(session, "guardian.link_confirmed", g, actor, by=teen_id)
    return g


def revoke(session: Session, link_id: str, by: str, *, actor: str) -> Guardianship:
    g = get(session, link_id)
    if by not in (g.guardian_id, g.teen_id):
        raise Forbidden("only the guardian or the teen revokes a link", code="not_a_party")
    if g.status == "revoked":
        return g
    g.status, g.revoked_at, g.revoked_by = "revoked", now(), by
    _event(session, "guardian.link_revoked", g, actor, by=by)
    return g


def links_of_teen(session: Session, teen_id: str) -> list[Guardianship]:
    """Every link of a teen, whatever its state (the teen sees them at all times)."""
    return list(session.scalars(select(Guardianship).where(Guardianship.teen_id == teen_id).order_by(Guardianship.id)))


def _active(session: Session, link_id: str, guardian_id: str) -> Guardianship:
    g = get(session, link_id)
    if g.guardian_id != guardian_id:
        raise Forbidden("this account is not the link's guardian", code="not_the_guardian")
    if g.status != "active":
        raise Forbidden(f"this link is {g.status}: the guardian sees nothing", code="guardianship_inactive")
    return g


def metadata(session: Session, g: Guardianship, since: datetime, until: datetime) -> dict[str, Any]:
    """What a guardian may see of the teen's period: never message text or media."""
    teen = g.teen_id
    contacts = session.execute(
        select(Contact.sender, Contact.recipient, Contact.first_at)
        .where(
            or_(Contact.sender == teen, Contact.recipient == teen), Contact.first_at >= since, Contact.first_at < until
        )
        .order_by(Contact.first_at)
    ).all()
    connections = {c for c in session.scalars(select(Connection.other_id).where(Connection.account_id == teen))}
    seen: dict[str, dict[str, Any]] = {}
    for sender, recipient, first_at in contacts:
        other = recipient if sender == teen else sender
        if other not in seen:
            seen[other] = {
                "account_id": other,
                "first_at": first_at.isoformat(),
                "direction": "sent" if sender == teen else "received",
                "connection": other in connections,
            }
    acts = list(
        session.scalars(
            select(Activity)
            .where(Activity.account_id == teen, Activity.at >= since, Activity.at < until)
            .order_by(Activity.at)
        )
    )
    minutes = sum(a.amount or 0 for a in acts if a.kind == "time_spent")
    return {
        "period": {"start": since.isoformat(), "end": until.isoformat()},
        "new_contacts": list(seen.values()),
        "groups_joined": [{"group": a.ref, "at": a.at.isoformat()} for a in acts if a.kind == "group_joined"],
        "time_spent_minutes": minutes,
        "purchases": [
            {"amount": a.amount, "currency": a.currency, "item": a.ref, "at": a.at.isoformat()}
            for a in acts
            if a.kind == "purchase"
        ],
        "reported_something": any(a.kind == "report_filed" for a in acts),
    }


def summary(session: Session, link_id: str, guardian_id: str, *, actor: str, days: int = 7) -> dict[str, Any]:
    """The guardian's view (403 unless the link is active and this is its guardian); audited."""
    g = _active(session, link_id, guardian_id)
    until = now()
    out = metadata(session, g, until - timedelta(days=days), until)
    audit(
        session,
        actor=actor,
        action="guardian.summary_read",
        object_type="account",
        object_id=g.teen_id,
        purpose="parental_controls",
        details={"guardianship_id": g.id, "guardian_id": guardian_id, "days": days},
    )
    return {"guardianship_id": g.id, "teen_id": g.teen_id, "guardian_id": g.guardian_id, **out}


def record_activity(
    session: Session,
    account_id: str,
    kind: str,
    *,
    amount: int | None,
    currency: str | None,
    ref: str | None,
    at: datetime | None,
) -> Activity:
    if kind not in ACTIVITY_KINDS:
        raise Invalid(f"kind must be one of {', '.join(ACTIVITY_KINDS)}", code="invalid_activity")
    ensure_accounts(session, [account_id])
    row = Activity(
        id=new_id(),
        account_id=account_id,
        kind=kind,
        amount=amount,
        currency=currency,
        ref=ref,
        at=min(at, now()) if at else now(),
    )
    session.add(row)
    return row


def _deliver(session: Session, type_: str, g: Guardianship, data: dict[str, Any], actor: str, key: str) -> None:
    deliver(
        session,
        type_,
        {"guardianship_id": g.id, "guardian_id": g.guardian_id, "teen_id": g.teen_id, **data},
        subject_type="account",
        subject_id=g.teen_id,
        actor=actor,
        idempotency_key=key,
    )


def request_approval(
    session: Session,
    link_id: str,
    *,
    kind: str,
    setting: str | None,
    value: Any,
    amount: int | None,
    currency: str | None,
    description: str,
    actor: str,
) -> GuardianApproval:
    """Ask the guardian; a purchase at or under the cap, or a loosening for a teen of the
    approval age or older, needs none and is approved at once (status `not_required`)."""
    g = get(session, link_id)
    if g.status != "active":
        raise Forbidden(f"this link is {g.status}", code="guardianship_inactive")
    cfg = get_config().guardians
    required = True
    if kind == "purchase":
        if amount is None or amount < 0 or not currency:
            raise Invalid("a purchase needs amount (minor units) and currency", code="invalid_purchase")
        cap = cfg.purchase_cap.get(currency.upper())
        required = cap is None or amount > cap
    elif kind == "loosen_default":
        if setting not in SETTINGS:
            raise Invalid(f"setting must be one of {', '.join(SETTINGS)}", code="unknown_setting")
        lo = band_range(current(session, g.teen_id).age_band)[0]
        required = lo < cfg.approval_below_age
    else:
        raise Invalid("kind must be purchase or loosen_default", code="invalid_approval_kind")
    a = GuardianApproval(
        id=new_id(),
        guardianship_id=g.id,
        kind=kind,
        setting=setting,
        value=value,
        amount=amount,
        currency=currency.upper() if currency else None,
        description=description,
        status="pending" if required else "not_required",
        created_at=now(),
    )
    session.add(a)
    session.flush()
    if not required:
        _apply(session, g, a, actor)
        record_event(
            session,
            "guardian.approval_answered",
            subject_type="guardianship",
            subject_id=g.id,
            actor=actor,
            data={"approval_id": a.id, "kind": kind, "status": a.status},
        )
        return a
    data = {"approval_id": a.id, "kind": kind, "setting": setting, "amount": amount, "currency": a.currency}
    record_event(
        session, "guardian.approval_requested", subject_type="guardianship", subject_id=g.id, actor=actor, data=data
    )
    _deliver(
        session,
        "guardian.approval_requested",
        g,
        {**data, "description": description},
        actor,
        f"guardian.approval_requested:{a.id}",
    )
    return a


def answer(
    session: Session, link_id: str, approval_id: str, guardian_id: str, approve: bool, *, actor: str
) -> GuardianApproval:
    g = _active(session, link_id, guardian_id)
    a = session.get(GuardianApproval, approval_id)
    if a is None or a.guardianship_id != g.id:
        raise NotFound("no such approval request", code="approval_not_found")
    if a.status != "pending":
        raise Conflict(f"already {a.status}", code="approval_answered")
    a.status, a.answered_at = ("approved" if approve else "declined"), now()
    if approve:
        _apply(session, g, a, actor)
    data = {"approval_id": a.id, "kind": a.kind, "status": a.status}
    record_event(
        session, "guardian.approval_answered", subject_type="guardianship", subject_id=g.id, actor=actor, data=data
    )
    _deliver(
        session,
        "guardian.approval_answered",
        g,
        {**data, "setting": a.setting, "amount": a.amount, "currency": a.currency},
        actor,
        f"guardian.approval_answered:{a.id}",
    )
    return a


def _apply(session: Session, g: Guardianship, a: GuardianApproval, actor: str) -> None:
    if a.kind != "loosen_default" or a.setting is None:
        return
    before = protections_for(session, g.teen_id)
    row = session.get(ProtectionOverride, (g.teen_id, a.setting))
    if row is None:
        session.add(ProtectionOverride(account_id=g.teen_id, setting=a.setting, value=a.value, approval_id=a.id))
    else:
        row.value, row.approval_id = a.value, a.id
    session.flush()
    tell_protections(session, g.teen_id, before, actor=actor)


def send_digests(session: Session, *, actor: str = "system:youth") -> int:
    """The weekly digest webhook for every active link (metadata only; once per link and week)."""
    until = now()
    since = until - timedelta(days=7)
    week = until.strftime("%G-W%V")
    n = 0
    for g in session.scalars(select(Guardianship).where(Guardianship.status == "active")):
        out = metadata(session, g, since, until)
        counts = {
            "new_contacts": len(out["new_contacts"]),
            "groups_joined": len(out["groups_joined"]),
            "time_spent_minutes": out["time_spent_minutes"],
            "purchases": len(out["purchases"]),
            "reported_something": int(out["reported_something"]),
        }
        key = f"guardian.digest:{g.id}:{week}"
        if session.scalar(select(func.count()).select_from(Delivery).where(Delivery.idempotency_key == key)):
            continue  # this week's digest went already
        _deliver(session, "guardian.digest", g, out, actor, key)
        record_event(
            session,
            "guardian.digest",
            subject_type="guardianship",
            subject_id=g.id,
            actor=actor,
            data={"period_start": since.isoformat(), "period_end": until.isoformat(), "counts": counts},
        )
        audit(
            session,
            actor=actor,
            action="guardian.digest_sent",
            object_type="account",
            object_id=g.teen_id,
            purpose="parental_controls",
            details={"guardianship_id": g.id},
        )
        n += 1
    return n
