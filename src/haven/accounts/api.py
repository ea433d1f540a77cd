"""`PUT /v1/accounts/{id}` (declared age band) and `POST /v1/accounts/{id}/blocks`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from haven.accounts.models import AgeBand
from haven.accounts.service import record_block, set_age_band
from haven.core.auth import Principal
from haven.core.web import require_scope

router = APIRouter(prefix="/v1", tags=["accounts"])
Accounts = Annotated[Principal, Depends(require_scope("accounts"))]
AccountId = Annotated[str, Path(min_length=1, max_length=200)]


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    age_band: AgeBand


class BlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    blocked: str = Field(min_length=1, max_length=200, description="the account that was blocked")


@router.put("/accounts/{account_id}")
def put_account(account_id: AccountId, body: AccountIn, principal: Accounts, request: Request) -> dict[str, Any]:
    """Set the account's declared age band; it feeds relationship signals and priorities."""
    with request.app.state.db.session() as session:  # committed before the answer
        acc = set_age_band(session, account_id, body.age_band, actor=principal.actor)
        return {"id": acc.id, "age_band": acc.age_band, "age_source": acc.age_source, "state": acc.state}


@router.post("/accounts/{account_id}/blocks", status_code=201)
def post_block(account_id: AccountId, body: BlockIn, principal: Accounts, request: Request) -> dict[str, Any]:
    """Tell Haven that this account blocked another: later contact from it is a risk signal."""
    with request.app.state.db.session() as session:  # committed before the answer
        created = record_block(session, account_id, body.blocked, actor=principal.actor)
    return {"blocker": account_id, "blocked": body.blocked, "created": created}
