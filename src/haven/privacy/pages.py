"""Console pages for privacy staff (role `privacy`, nobody else): look up an account, download
its access export, erase it. Each action goes through `haven.privacy.dsar` and is audited there
(`privacy.dsar_access`, `privacy.erasure`); the erasure needs a reason, which the audit keeps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.responses import Response

from haven.console.web import (
    PREFIX,
    StaffContext,
    add_nav,
    add_template_dir,
    console_router,
    csrf_protect,
    current_staff,
    render,
)
from haven.core.db import Database
from haven.core.errors import Invalid
from haven.core.ledger import audit
from haven.core.settings import get_settings
from haven.privacy import dsar
from haven.privacy.classes import CLASSES, days

add_template_dir(Path(__file__).resolve().parent / "templates" / "console")
router = console_router()
Privacy = Annotated[StaffContext, Depends(current_staff("privacy"))]
add_nav("Privacy", f"{PREFIX}/privacy", ("privacy",))


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


@router.get("/privacy")
def privacy_home(request: Request, me: Privacy, account: str = "") -> Response:
    """The retention schedule in force and the account look-up (nothing is read until asked)."""
    settings = get_settings()
    schedule = [(c.name, days(settings, c.name), c.what) for c in CLASSES.values()]
    return render(request, "privacy_home.html", {"schedule": schedule, "account": account.strip()}, me=me)


@router.post("/privacy/accounts/{account_id}/export", dependencies=[Depends(csrf_protect)])
def export(request: Request, me: Privacy, account_id: str) -> Response:
    """The access export as a JSON download (audited `privacy.dsar_access`)."""
    with _db(request).session() as s:
        body = dsar.access(s, account_id, actor=me.actor.ref)
    name = quote(f"dsar-{account_id}.json", safe="")
    return Response(
        json.dumps(body, indent=2, default=str),
        media_type="application/json",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@router.post("/privacy/accounts/{account_id}/erase", dependencies=[Depends(csrf_protect)])
def erase(request: Request, me: Privacy, account_id: str, reason: Annotated[str, Form()] = "") -> Response:
    """Erase what law and open cases allow; the page says what was kept and why."""
    if len(reason.strip()) < 5:
        raise Invalid("an erasure needs a reason (the request's reference)", code="reason_required")
    with _db(request).session() as s:
        result = dsar.erase(s, account_id, actor=me.actor.ref)
        audit(
            s,
            actor=me.actor.ref,
            action="privacy.erasure_reason",
            object_type="account",
            object_id=account_id,
            purpose="data_subject_request",
            details={"reason": reason.strip()[:500]},
        )
    return render(request, "privacy_erased.html", {"account_id": account_id, "result": result}, me=me)
