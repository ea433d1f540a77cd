"""`POST /v1/accounts/{id}/dsar` and `POST /v1/accounts/{id}/erasure` (scope `privacy`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from haven.core.auth import Principal
from haven.core.web import require_scope
from haven.privacy import dsar

router = APIRouter(prefix="/v1", tags=["privacy"])
Privacy = Annotated[Principal, Depends(require_scope("privacy"))]
AccountId = Annotated[str, Path(min_length=1, max_length=200)]


@router.post("/accounts/{account_id}/dsar")
def post_dsar(account_id: AccountId, principal: Privacy, request: Request) -> dict[str, Any]:
    """Access request: what Haven holds about the account (declared personal fields only), and
    each withheld class with its reason."""
    with request.app.state.db.session() as session:
        return dsar.access(session, account_id, actor=principal.actor)


@router.post("/accounts/{account_id}/erasure")
def post_erasure(account_id: AccountId, principal: Privacy, request: Request) -> dict[str, Any]:
    """Erasure request: erase or pseudonymise everything not under a hold, a preserved report or
    an open law-enforcement request; the answer says what was kept and why."""
    with request.app.state.db.session() as session:
        return dsar.erase(session, account_id, actor=principal.actor)
