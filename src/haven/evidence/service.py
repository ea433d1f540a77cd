"""Listings of the vault for staff (metadata only, never bytes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.core.actors import Actor
from haven.evidence.models import EvidenceObject, LegalHold
from haven.evidence.vault import active_holds, authorise_manage


def object_row(session: Session, o: EvidenceObject) -> dict[str, Any]:
    return {
        "id": o.id,
        "case_id": o.case_id,
        "content_id": o.content_id,
        "account_id": o.account_id,
        "kind": o.kind,
        "file_name": o.file_name,
        "size": o.size_bytes,
        "sha256": o.sha256,
        "preserved_at": o.created_at.isoformat(),
        "retain_until": o.retain_until.isoformat() if o.retain_until else None,
        "destroyed_at": o.destroyed_at.isoformat() if o.destroyed_at else None,
        "destruction_reason": o.destruction_reason,
        "holds": [h.id for h in active_holds(session, o)] if o.destroyed_at is None else [],
    }


def list_objects(
    session: Session, actor: Actor, case_id: str | None = None, account_id: str | None = None
) -> list[dict[str, Any]]:
    authorise_manage(actor)
    q = select(EvidenceObject).order_by(EvidenceObject.created_at)
    if case_id:
        q = q.where(EvidenceObject.case_id == case_id)
    if account_id:
        q = q.where(EvidenceObject.account_id == account_id)
    return [object_row(session, o) for o in session.scalars(q)]


def hold_row(h: LegalHold) -> dict[str, Any]:
    return {
        "id": h.id,
        "case_id": h.case_id,
        "object_id": h.object_id,
        "account_id": h.account_id,
        "reason": h.reason,
        "legal_request_id": h.legal_request_id,
        "created_by": h.created_by,
        "created_at": h.created_at.isoformat(),
        "expires_at": h.expires_at.isoformat() if h.expires_at else None,
        "released_at": h.released_at.isoformat() if h.released_at else None,
    }


def list_holds(session: Session, actor: Actor, include_released: bool = False) -> list[dict[str, Any]]:
    authorise_manage(actor)
    q = select(LegalHold).order_by(LegalHold.created_at)
    if not include_released:
        q = q.where(LegalHold.released_at.is_(None))
    return [hold_row(h) for h in session.scalars(q)]
