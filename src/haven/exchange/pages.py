"""The console page of the exchanges (admin): each exchange's state, last fetch, counts, errors
and a "fetch now" button (which queues a fetch for the worker)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from haven.console.web import (
    StaffContext,
    add_nav,
    add_template_dir,
    console_router,
    csrf_protect,
    current_staff,
    render,
)
from haven.core.db import Database
from haven.core.ledger import audit
from haven.exchange.jobs import queue_fetch
from haven.exchange.models import Exchange
from haven.exchange.service import get_exchange, state

router = console_router()
Admin = Annotated[StaffContext, Depends(current_staff("admin"))]
add_template_dir(Path(__file__).parent / "templates")
add_nav("Exchanges", "/console/admin/exchanges", ("admin",))


def _db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


@router.get("/admin/exchanges")
def exchanges_page(request: Request, me: Admin) -> Response:
    with _db(request).session() as s:
        rows = [state(s, ex) for ex in s.scalars(select(Exchange).order_by(Exchange.name))]
    return render(request, "exchanges.html", {"rows": rows, "queued": request.query_params.get("queued")}, me=me)


@router.post("/admin/exchanges/{exchange_id}/fetch", dependencies=[Depends(csrf_protect)])
def fetch_now(request: Request, me: Admin, exchange_id: str) -> Response:
    with _db(request).session() as s:
        ex = get_exchange(s, exchange_id)
        queue_fetch(s, ex.id, reason="now")
        audit(s, actor=me.actor.ref, action="exchange.fetch_now", object_type="exchange", object_id=ex.id)
        name = ex.name
    return RedirectResponse(f"/console/admin/exchanges?queued={name}", status_code=303)
