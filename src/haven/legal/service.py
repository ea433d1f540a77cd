"""Law-enforcement requests: intake, verification, deadlines, preservation holds, the user-notice
decision, and productions limited by the kind of legal process.

What each kind of US process can compel (Stored Communications Act, 18 U.S.C. 2703):
a subpoena reaches basic subscriber information (2703(c)(2)); a 2703(d) court order adds other
non-content records; a search warrant is needed for content (2703(a)-(b), and Carpenter/Warshak
practice). A preservation letter (2703(f)) compels keeping, not producing: 90 days, extended once
by 90 days on renewal. Emergency disclosure (2702(b)(8), (c)(4)) is voluntary, on a good-faith
belief of danger of death or serious injury, and must be verified. Foreign requests go through
an MLAT or a CLOUD Act agreement: nothing is produced on the foreign request itself.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.accounts.models import Account
from haven.core.actors import Actor
from haven.core.clock import new_id, now
from haven.core.errors import Conflict, Forbidden, Invalid, NotFound
from haven.core.ledger import audit, record_event
from haven.core.settings import Settings
from haven.evidence.models import EvidenceObject, LegalHold
from haven.evidence.vault import Vault, place_hold, release_hold
from haven.legal.models import LegalRequest
from haven.screening.models import ContentItem

KINDS = ("preservation", "subpoena", "court_order", "search_warrant", "emergency", "foreign")
CATEGORIES = ("subscriber", "non_content", "content")
#: What may be produced under each kind of process; the package builder refuses anything more.
ALLOWED: dict[str, tuple[str, ...]] = {
    "preservation": (),
    "subpoena": ("subscriber",),
    "court_order": ("subscriber", "non_content"),
    "search_warrant": ("subscriber", "non_content", "content"),
    "emergency": ("subscriber", "non_content", "content"),
    "foreign": (),
}
#: Default time to answer when the request does not say.
DEFAULT_DUE = {
    "preservation": timedelta(days=1),
    "subpoena": timedelta(days=14),
    "court_order": timedelta(days=14),
    "search_warrant": timedelta(days=10),
    "emergency": timedelta(hours=2),
    "foreign": timedelta(days=30),
}
PRESERVATION_PERIOD = timedelta(days=90)
MAX_RENEWALS = 1  # 2703(f)(2): "an additional 90-day period upon a renewed request"
ROLES = ("legal",)


def _require(actor: Actor) -> None:
    if actor.kind != "system" and not actor.has_any(*ROLES):
        raise Forbidden(
            "law-enforcement requests need the legal role", code="role_required", details={"roles": list(ROLES)}
        )


def get_request(session: Session, request_id: str, actor: Actor) -> LegalRequest:
    _require(actor)
    req = session.get(LegalRequest, request_id)
    if req is None:
        raise NotFound(f"no legal request '{request_id}'", code="legal_request_not_found")
    return req


def create_request(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    agency: str,
    requester_name: str,
    targets: list[str],
    requester_email: str | None = None,
    requester_phone: str | None = None,
    reference: str | None = None,
    country: str = "US",
    due_at: datetime | None = None,
    nondisclosure_until: datetime | None = None,
    notes: str | None = None,
) -> LegalRequest:
    """Record a request. A preservation request places a 90-day hold on each target account."""
    _require(actor)
    if kind not in KINDS:
        raise Invalid(f"unknown kind '{kind}' (one of {', '.join(KINDS)})", code="invalid_kind")
    if not targets:
        raise Invalid("name at least one target account", code="targets_required")
    if kind != "foreign" and country.upper() != "US":
        raise Invalid("a request from outside the US is recorded as kind 'foreign'", code="foreign_request")
    t = now()
    req = LegalRequest(
        id=new_id(),
        kind=kind,
        agency=agency,
        requester_name=requester_name,
        requester_email=requester_email,
        requester_phone=requester_phone,
        reference=reference,
        country=country.upper(),
        targets=list(dict.fromkeys(targets)),
        received_at=t,
        due_at=due_at or t + DEFAULT_DUE[kind],
        nondisclosure_until=nondisclosure_until,
        notes=notes,
        created_by=actor.ref,
        created_at=t,
        updated_at=t,
    )
    session.add(req)
    session.flush()
    if kind == "preservation":
        req.preservation_expires_at = t + PRESERVATION_PERIOD
        for account in req.targets:
            place_hold(
                session,
                actor=actor,
                reason=f"preservation request {reference or req.id} ({agency})",
                account_id=account,
                legal_request_id=req.id,
                expires_at=req.preservation_expires_at,
            )
    record_event(
        session,
        "legal.request_received",
        subject_type="legal_request",
        subject_id=req.id,
        actor=actor.ref,
        data={
            "kind": kind,
            "targets": len(req.targets),
            "country": req.country,
            "due_at": req.due_at.isoformat() if req.due_at else None,
        },
    )
    return req


def verify(session: Session, request_id: str, actor: Actor, *, verified: bool, note: str) -> LegalRequest:
    """Record whether the requester was confirmed through an independent channel (a call back
    to the agency's published number, not the one on the request)."""
    req = get_request(session, request_id, actor)
    if not note.strip():
        raise Invalid("say how the requester was (or could not be) verified", code="note_required")
    req.verification = "verified" if verified else "failed"
    req.verification_note = note
    req.verified_by = actor.ref
    req.verified_at = now()
    req.updated_at = now()
    if not verified:
        req.status = "rejected"
    record_event(
        session,
        "legal.request_verified",
        subject_type="legal_request",
        subject_id=req.id,
        actor=actor.ref,
        data={"verified": verified},
    )
    return req


def renew_preservation(session: Session, request_id: str, actor: Actor) -> LegalRequest:
    req = get_request(session, request_id, actor)
    if req.kind != "preservation":
        raise Conflict("only preservation requests are renewed", code="not_preservation")
    if req.renewals >= MAX_RENEWALS:
        raise Conflict(
            "a preservation request is extended once (18 U.S.C. 2703(f)(2)); ask for legal process",
            code="renewal_limit",
        )
    base = max(req.preservation_expires_at or now(), now())
    req.preservation_expires_at = base + PRESERVATION_PERIOD
    req.renewals += 1
    req.updated_at = now()
    for hold in session.scalars(
        select(LegalHold).where(LegalHold.legal_request_id == req.id, LegalHold.released_at.is_(None))
    ):
        hold.expires_at = req.preservation_expires_at
    record_event(
        session,
        "legal.preservation_renewed",
        subject_type="legal_request",
        subject_id=req.id,
        actor=actor.ref,
        data={"until": req.preservation_expires_at.isoformat()},
    )
    return req


def decide_notice(session: Session, request_id: str, actor: Actor, *, decision: str, reason: str) -> LegalRequest:
    """Decide whether the user is told. Notifying is refused while a non-disclosure order runs."""
    req = get_request(session, request_id, actor)
    if decision not in ("notify", "withhold", "notified"):
        raise Invalid("decision is notify, withhold or notified", code="invalid_decision")
    if decision in ("notify", "notified") and req.nondisclosure_until is not None and req.nondisclosure_until > now():
        raise Conflict(
            f"a non-disclosure order forbids telling the user until {req.nondisclosure_until.isoformat()}",
            code="nondisclosure_order",
        )
    req.user_notice = decision
    req.user_notice_reason = reason
    req.updated_at = now()
    record_event(
        session,
        "legal.user_notice",
        subject_type="legal_request",
        subject_id=req.id,
        actor=actor.ref,
        data={"decision": decision},
    )
    return req


def close(session: Session, request_id: str, actor: Actor, note: str | None = None) -> LegalRequest:
    req = get_request(session, request_id, actor)
    req.status = "closed"
    req.updated_at = now()
    if note:
        req.notes = ((req.notes or "") + "\n" + note).strip()
    for hold in session.scalars(
        select(LegalHold).where(LegalHold.legal_request_id == req.id, LegalHold.released_at.is_(None))
    ):
        release_hold(session, hold.id, actor=actor)
    record_event(session, "legal.request_closed", subject_type="legal_request", subject_id=req.id, actor=actor.ref)
    return req


def listing(
    session: Session, actor: Actor, *, overdue_only: bool = False, include_closed: bool = False
) -> list[dict[str, Any]]:
    """Requests with their deadlines; overdue ones first."""
    _require(actor)
    q = select(LegalRequest)
    if not include_closed:
        q = q.where(LegalRequest.status.in_(("open", "responded")))
    rows = [row(r) for r in session.scalars(q)]
    if overdue_only:
        rows = [r for r in rows if r["overdue"]]
    return sorted(rows, key=lambda r: (not r["overdue"], r["due_at"] or "9999"))


def row(r: LegalRequest) -> dict[str, Any]:
    t = now()
    due = r.due_at
    return {
        "id": r.id,
        "kind": r.kind,
        "agency": r.agency,
        "requester": r.requester_name,
        "reference": r.reference,
        "country": r.country,
        "targets": r.targets,
        "status": r.status,
        "verification": r.verification,
        "received_at": r.received_at.isoformat(),
        "due_at": due.isoformat() if due else None,
        "overdue": bool(due and due < t and r.status == "open"),
        "hours_left": round((due - t).total_seconds() / 3600, 1) if due else None,
        "nondisclosure_until": r.nondisclosure_until.isoformat() if r.nondisclosure_until else None,
        "user_notice": r.user_notice,
        "preservation_expires_at": r.preservation_expires_at.isoformat() if r.preservation_expires_at else None,
        "renewals": r.renewals,
        "may_produce": list(ALLOWED[r.kind]),
    }


def produce(
    session: Session,
    settings: Settings,
    request_id: str,
    actor: Actor,
    *,
    include: list[str],
    purpose: str | None = None,
) -> bytes:
    """Build the production package for a verified request: only what its process allows.

    subscriber: the target accounts' records; non_content: records about their content (times,
    IP addresses, recipients, sizes), never the content or its hashes; content: the preserved
    objects of the target accounts from the evidence vault, with hashes and custody record.
    """
    req = get_request(session, request_id, actor)
    unknown = sorted(set(include) - set(CATEGORIES))
    if unknown or not include:
        raise Invalid(f"include some of: {', '.join(CATEGORIES)}", code="invalid_categories")
    beyond = sorted(set(include) - set(ALLOWED[req.kind]))
    if beyond:
        raise Forbidden(
            f"a {req.kind.replace('_', ' ')} does not allow producing {', '.join(beyond)}"
            + (
                f" (it allows: {', '.join(ALLOWED[req.kind])})" if ALLOWED[req.kind] else " (nothing is produced on it)"
            ),
            code="beyond_legal_process",
            details={"allowed": list(ALLOWED[req.kind]), "requested": include},
        )
    if req.verification != "verified":
        raise Conflict("verify the requester before producing anything", code="requester_not_verified")
    if req.status not in ("open", "responded"):
        raise Conflict(f"the request is {req.status}", code="request_closed")
    extra: dict[str, bytes] = {}
    header = {
        "legal_request": row(req),
        "categories": include,
        "generated_at": now().isoformat(),
        "generated_by": actor.ref,
    }
    extra["request.json"] = json.dumps(header, indent=2).encode()
    if "subscriber" in include:
        accounts = session.scalars(select(Account).where(Account.id.in_(req.targets)))
        extra["subscriber.json"] = json.dumps(
            [
                {"account_id": a.id, "created_at": a.created_at.isoformat(), "state": a.state, "age_band": a.age_band}
                for a in accounts
            ],
            indent=2,
        ).encode()
    if "non_content" in include:
        items = session.scalars(
            select(ContentItem).where(ContentItem.uploader.in_(req.targets)).order_by(ContentItem.received_at)
        )
        extra["records.json"] = json.dumps(
            [
                {
                    "content_id": i.id,
                    "account_id": i.uploader,
                    "media_kind": i.media_kind,
                    "created_at": i.created_at.isoformat() if i.created_at else None,
                    "received_at": i.received_at.isoformat(),
                    "ip": i.ip,
                    "surface": i.surface,
                    "recipients": i.recipients,
                    "size_bytes": i.size_bytes,
                }
                for i in items
            ],
            indent=2,
        ).encode()
    object_ids: list[str] = []
    if "content" in include:
        object_ids = list(
            session.scalars(
                select(EvidenceObject.id).where(
                    EvidenceObject.account_id.in_(req.targets), EvidenceObject.destroyed_at.is_(None)
                )
            )
        )
    blob = Vault.from_settings(settings).export(
        session,
        object_ids,
        actor=actor,
        purpose=purpose or f"{req.kind} {req.reference or req.id}",
        legal_request_id=req.id,
        extra_files=extra,
    )
    audit(
        session,
        actor=actor.ref,
        action="legal.produce",
        object_type="legal_request",
        object_id=req.id,
        purpose=purpose,
        details={"categories": include, "objects": len(object_ids)},
    )
    req.status = "responded"
    req.updated_at = now()
    record_event(
        session,
        "legal.produced",
        subject_type="legal_request",
        subject_id=req.id,
        actor=actor.ref,
        data={"categories": include, "objects": len(object_ids), "kind": req.kind},
    )
    return blob
