"""`/v1/evidence`: vault listings and holds for an integration with the `evidence` scope. It
never returns the bytes: decryption is for staff with the legal role, through the CLI or console."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, BaseModel, Field

from haven.core.actors import Actor
from haven.core.auth import Principal
from haven.core.web import SessionDep, require_scope
from haven.evidence.service import hold_row, list_holds, list_objects
from haven.evidence.vault import place_hold, release_hold

router = APIRouter(prefix="/v1/evidence", tags=["evidence"])
EvidenceScope = Annotated[Principal, Depends(require_scope("evidence"))]


def _actor(p: Principal) -> Actor:
    return Actor("integration", p.integration_id, frozenset({"admin"}))


class LegalHoldIn(BaseModel):
    reason: str = Field(min_length=1)
    case_id: str | None = None
    object_id: str | None = None
    account_id: str | None = None
    expires_at: AwareDatetime | None = None


@router.get("")
def objects(
    session: SessionDep, principal: EvidenceScope, case_id: str | None = None, account_id: str | None = None
) -> list[dict[str, Any]]:
    return list_objects(session, _actor(principal), case_id, account_id)


@router.get("/holds")
def holds(session: SessionDep, principal: EvidenceScope, include_released: bool = False) -> list[dict[str, Any]]:
    return list_holds(session, _actor(principal), include_released)


@router.post("/holds", status_code=201)
def create_hold(body: LegalHoldIn, session: SessionDep, principal: EvidenceScope) -> dict[str, Any]:
    hold = place_hold(session, actor=_actor(principal), **body.model_dump())
    session.flush()
    return hold_row(hold)


@router.post("/holds/{hold_id}/release")
def release(hold_id: str, session: SessionDep, principal: EvidenceScope) -> dict[str, Any]:
    return hold_row(release_hold(session, hold_id, actor=_actor(principal)))
