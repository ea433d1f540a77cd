"""Routes of the provider adapters: results the app forwards (Apple, Google Play, the EU
blueprint presentation) under the service's API key, and signed webhooks from commercial
providers (no API key: the provider's signature authenticates; outside `/v1`, body capped here)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from haven.core.auth import Principal
from haven.core.errors import HavenError, Invalid
from haven.core.web import require_scope
from haven.youth.api import AgeSignalIn
from haven.youth.providers import ADAPTERS, Rejected, verify_webhook
from haven.youth.service import record_signal

router = APIRouter(tags=["youth"])
Accounts = Annotated[Principal, Depends(require_scope("accounts"))]
AccountId = Annotated[str, Path(min_length=1, max_length=200)]
MAX_WEBHOOK_BYTES = 64 * 1024


def _answer(account_id: str, row: Any, assured: Any) -> dict[str, Any]:
    return {
        "signal_id": row.id,
        "account_id": account_id,
        "assured": {"age_band": assured.age_band, "level": assured.level, "method": assured.method},
    }


@router.post("/v1/accounts/{account_id}/age-signals/{adapter}", status_code=201)
def post_adapter_result(
    account_id: AccountId,
    adapter: Annotated[str, Path(max_length=32)],
    body: dict[str, Any],
    principal: Accounts,
    request: Request,
) -> dict[str, Any]:
    """A provider's own result payload (`apple`, `google`, `eu-blueprint`), verified by its adapter."""
    ad = ADAPTERS.get(adapter)
    if ad is None:
        raise Invalid(
            f"unknown adapter '{adapter}'; known: {', '.join(ADAPTERS)}", code="unknown_adapter", status_code=404
        )
    sig = ad.verify(body)
    with request.app.state.db.session() as session:
        row, assured = record_signal(session, account_id, sig, actor=principal.actor)
        return _answer(account_id, row, assured)


class ProviderResultIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: str = Field(min_length=1, max_length=200)
    result: AgeSignalIn


@router.post("/hooks/age-providers/{provider}", status_code=201)
async def provider_webhook(
    provider: Annotated[str, Path(max_length=32, pattern=r"^[a-z0-9_-]+$")], request: Request
) -> dict[str, Any]:
    """A commercial provider's signed result (`Haven-Provider-Signature: t=<unix>,v1=<hex>`)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_WEBHOOK_BYTES:
        raise HavenError("the body is too large", code="payload_too_large", status_code=413)
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_WEBHOOK_BYTES:
            raise HavenError("the body is too large", code="payload_too_large", status_code=413)
    verify_webhook(provider, raw, request.headers.get("haven-provider-signature"))
    try:
        body = ProviderResultIn.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        raise Rejected(f"not a result: {' '.join(str(exc).split())[:300]}") from None
    sig = body.result.to_input()
    sig = type(sig)(**{**sig.__dict__, "provider": f"{provider}:{sig.provider}"})
    from starlette.concurrency import run_in_threadpool

    def store() -> dict[str, Any]:
        with request.app.state.db.session() as session:
            row, assured = record_signal(session, body.account_id, sig, actor=f"provider:{provider}")
            return _answer(body.account_id, row, assured)

    return await run_in_threadpool(store)
