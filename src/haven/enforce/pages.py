"""Console pages of enforcement: the webhook dead-letter list with replay, and the enforcement
ladder as configured. Admins replay; senior reviewers may look (to explain to a user why an
action did not reach the service, or what a strike costs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from haven.console.web import (
    PREFIX,
    StaffContext,
    add_nav,
    add_template_dir,
    console_router,
    csrf_protect,
    current_staff,
    redirect,
    render,
)
from haven.core.db import Database
from haven.enforce import strikes, webhooks
from haven.enforce.models import Delivery
from haven.enforce.settings import get_enforce_settings
from haven.policy.categories import CATEGORIES

add_template_dir(Path(__file__).resolve().parent / "templates" / "console")
router = console_router()
Viewer = Annotated[StaffContext, Depends(current_staff("admin", "senior"))]
Admin = Annotated[StaffContext, Depends(current_staff("admin"))]
STATUSES = ("dead", "pending", "delivered")
add_nav("Webhooks", f"{PREFIX}/enforcement/deliveries", ("admin", "senior"))
add_nav("Ladder", f"{PREFIX}/enforcement/ladder", ("admin", "senior"))


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


@router.get("/enforcement/deliveries")
def deliveries_page(request: Request, me: Viewer, status: str = "dead", replayed: str = "") -> Response:
    """Deliveries by status, dead letters first: what the service never acknowledged."""
    status = status if status in STATUSES else "dead"
    with _db(request).replica() as s:  # a list: the read replica's lag is harmless
        rows = webhooks.list_deliveries(s, status, limit=200)
        found = dict(s.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).tuples().all())
        counts = {st: int(found.get(st, 0)) for st in STATUSES}
        configured = webhooks.endpoint(s)
    return render(
        request,
        "enforce_deliveries.html",
        {
            "rows": rows,
            "status": status,
            "statuses": STATUSES,
            "counts": counts,
            "endpoint": configured[0] if configured else None,
            "can_replay": "admin" in me.roles,
            "replayed": replayed,
        },
        me=me,
    )


@router.post("/enforcement/deliveries/{delivery_id}/replay", dependencies=[Depends(csrf_protect)])
def replay_delivery(request: Request, me: Admin, delivery_id: str) -> Response:
    """Send a dead letter again (same body and idempotency key); audited as `webhook.replay`."""
    with _db(request).session() as s:
        webhooks.replay(s, delivery_id, actor=me.actor.ref)
    return redirect(f"{PREFIX}/enforcement/deliveries?replayed={delivery_id}", request)


@router.get("/enforcement/ladder")
def ladder_page(request: Request, me: Viewer) -> Response:
    """The ladder in force, read-only: it is configured in YAML (`HAVEN_LADDER_FILE`)."""
    cfg = strikes.ladder()
    by_severity: dict[str, list[str]] = {}
    for cat, sev in cfg.categories.items():
        by_severity.setdefault(sev, []).append(cat)
    source = get_enforce_settings().ladder_file
    return render(
        request,
        "enforce_ladder.html",
        {
            "ladder": cfg,
            "by_severity": by_severity,
            "categories": CATEGORIES,
            "source": str(source)
            if source
            else "the ladder shipped with Haven (src/haven/enforce/defaults/ladder.yaml)",
        },
        me=me,
    )
