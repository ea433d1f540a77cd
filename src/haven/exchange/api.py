"""HTTP routes of the exchanges: `/v1/exchanges` (scopes `exchanges:read|write`) and the signed
feed a partner reads, `/v1/exchanges/feed` (scope `exchanges:feed`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse
from sqlalchemy import select

from haven.core.auth import Principal, is_test_mode
from haven.core.errors import Forbidden
from haven.core.web import SessionDep, SettingsDep, require_scope
from haven.exchange import service
from haven.exchange.jobs import queue_fetch
from haven.exchange.models import Exchange, ExchangePartner
from haven.exchange.publish import feed_page

router = APIRouter(prefix="/v1/exchanges", tags=["exchanges"])
Reader = Annotated[Principal, Depends(require_scope("exchanges:read"))]
Writer = Annotated[Principal, Depends(require_scope("exchanges:write"))]
FeedReader = Annotated[Principal, Depends(require_scope("exchanges:feed"))]


@router.get("/feed", response_class=PlainTextResponse, summary="The signed Haven feed published to this partner")
def feed(
    principal: FeedReader,
    session: SessionDep,
    settings: SettingsDep,
    after: Annotated[str, Query(max_length=80)] = "",
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> PlainTextResponse:
    partner = session.scalar(select(ExchangePartner).where(ExchangePartner.integration_id == principal.integration_id))
    if partner is None:
        raise Forbidden("this API key belongs to no exchange partner", code="not_a_partner")
    body = feed_page(session, partner, after=after, limit=limit, settings=settings)
    return PlainTextResponse(body, media_type="application/x-ndjson")


@router.get("", summary="Every exchange with its state")
def list_exchanges(_: Reader, session: SessionDep) -> list[dict[str, Any]]:
    return [service.state(session, ex) for ex in session.scalars(select(Exchange).order_by(Exchange.name))]


@router.get("/{exchange}", summary="One exchange's state")
def show(exchange: str, _: Reader, session: SessionDep) -> dict[str, Any]:
    return service.state(session, service.get_exchange(session, exchange))


def _not_in_test_mode(principal: Principal) -> None:
    """A test-mode key runs the whole pipeline but never reaches a real exchange."""
    if is_test_mode(principal):
        raise Forbidden("a test-mode key does not reach real exchanges (use a live key)", code="test_mode")


@router.post("/{exchange}/fetch", status_code=202, summary="Fetch now (queued for the worker)")
def fetch_now(exchange: str, principal: Writer, session: SessionDep) -> dict[str, Any]:
    _not_in_test_mode(principal)
    ex = service.get_exchange(session, exchange)
    queue_fetch(session, ex.id, reason="now")
    return {"queued": True, "exchange": ex.id}


@router.post("/{exchange}/disable", summary="Stop fetching (entries stay as they are)")
def disable(exchange: str, principal: Writer, session: SessionDep) -> dict[str, Any]:
    _not_in_test_mode(principal)
    ex = service.set_enabled(session, service.get_exchange(session, exchange), False, actor=principal.actor)
    return service.state(session, ex)


@router.post("/{exchange}/enable", summary="Fetch again on the exchange's interval")
def enable(exchange: str, principal: Writer, session: SessionDep) -> dict[str, Any]:
    _not_in_test_mode(principal)
    ex = service.set_enabled(session, service.get_exchange(session, exchange), True, actor=principal.actor)
    queue_fetch(session, ex.id)
    return service.state(session, ex)
