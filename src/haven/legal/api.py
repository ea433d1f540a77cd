"""`/v1/legal/requests`: law-enforcement requests for an integration with the `legal` scope
(acting with the legal role). Productions are built with `haven legal produce` for now."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, BaseModel, Field

from haven.core.actors import Actor
from haven.core.auth import Principal
from haven.core.web import SessionDep, require_scope
from haven.legal import service

router = APIRouter(prefix="/v1/legal/requests", tags=["legal"])
LegalScope = Annotated[Principal, Depends(require_scope("legal"))]


def _actor(p: Principal) -> Actor:
    return Actor("integration", p.integration_id, frozenset({"legal"}))


class RequestIn(BaseModel):
    kind: str
    agency: str = Field(min_length=1, max_length=255)
    requester_name: str = Field(min_length=1, max_length=200)
    targets: list[str] = Field(min_length=1)
    requester_email: str | None = None
    requester_phone: str | None = None
    reference: str | None = None
    country: str = Field("US", min_length=2, max_length=2)
    due_at: AwareDatetime | None = None
    nondisclosure_until: AwareDatetime | None = None
    notes: str | None = None


class VerifyIn(BaseModel):
    verified: bool
    note: str = Field(min_length=1)


class NoticeIn(BaseModel):
    decision: str
    reason: str = Field(min_length=1)


@router.post("", status_code=201)
def create(body: RequestIn, session: SessionDep, principal: LegalScope) -> dict[str, Any]:
    req = service.create_request(session, _actor(principal), **body.model_dump())
    return service.row(req)


@router.get("")
def list_requests(
    session: SessionDep, principal: LegalScope, overdue: bool = False, include_closed: bool = False
) -> list[dict[str, Any]]:
    """Requests with deadlines; overdue first (`overdue=true` for only those)."""
    return service.listing(session, _actor(principal), overdue_only=overdue, include_closed=include_closed)


@router.get("/{request_id}")
def get(request_id: str, session: SessionDep, principal: LegalScope) -> dict[str, Any]:
    return service.row(service.get_request(session, request_id, _actor(principal)))


@router.post("/{request_id}/verify")
def verify(request_id: str, body: VerifyIn, session: SessionDep, principal: LegalScope) -> dict[str, Any]:
    return service.row(service.verify(session, request_id, _actor(principal), verified=body.verified, note=body.note))


@router.post("/{request_id}/renew")
def renew(request_id: str, session: SessionDep, principal: LegalScope) -> dict[str, Any]:
    return service.row(service.renew_preservation(session, request_id, _actor(principal)))


@router.post("/{request_id}/notice")
def notice(request_id: str, body: NoticeIn, session: SessionDep, principal: LegalScope) -> dict[str, Any]:
    return service.row(
        service.decide_notice(session, request_id, _actor(principal), decision=body.decision, reason=body.reason)
    )
