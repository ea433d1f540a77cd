"""Console pages of the evidence vault (roles `legal` and `admin`): the preserved objects per case
with their retention date and the holds that cover them, placing and releasing holds (each with
a reason, in the audit log and the ledger), and an object's custody record. Metadata only: the
console never decrypts preserved bytes (that stays with `haven evidence read`, audited with a
purpose, for the legal role)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

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
from haven.core.clock import now
from haven.core.db import Database
from haven.core.errors import HavenError
from haven.evidence.models import EvidenceObject, LegalHold
from haven.evidence.service import hold_row, list_objects
from haven.evidence.vault import (
    MANAGE_ROLES,
    active_holds,
    authorise_manage,
    custody_record,
    get_object,
    place_hold,
    release_hold,
)

add_template_dir(Path(__file__).resolve().parent / "templates")
add_nav("Evidence", f"{PREFIX}/evidence", MANAGE_ROLES)
router = console_router()
Manager = Annotated[StaffContext, Depends(current_staff(*MANAGE_ROLES))]
CSRF = [Depends(csrf_protect)]
SCOPES = ("case", "object", "account")


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _page(
    request: Request,
    me: StaffContext,
    *,
    case_id: str | None = None,
    errors: dict[str, str] | None = None,
    posted: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    with _db(request).session() as s:
        objects = list_objects(s, me.actor, case_id or None)
        holds = [hold_row(h) for h in s.scalars(select(LegalHold).order_by(LegalHold.created_at.desc()))]
    by_case: dict[str, list[dict[str, Any]]] = {}
    for o in objects:
        by_case.setdefault(o["case_id"] or "(no case)", []).append(o)
    t = now().isoformat()
    for h in holds:
        h["active"] = h["released_at"] is None and (h["expires_at"] is None or h["expires_at"] > t)
    ctx = {
        "by_case": by_case,
        "holds": holds,
        "case_id": case_id or "",
        "errors": errors or {},
        "posted": posted or {},
        "scopes": SCOPES,
    }
    return render(request, "evidence.html", ctx, me=me, status=status)


@router.get("/evidence")
def evidence_page(request: Request, me: Manager, case_id: str | None = None) -> Response:
    return _page(request, me, case_id=case_id)


@router.post("/evidence/holds", dependencies=CSRF)
def evidence_place_hold(
    request: Request,
    me: Manager,
    scope: Annotated[str, Form(max_length=10)] = "",
    target: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=3000)] = "",
) -> Response:
    posted = {"scope": scope, "target": target.strip(), "reason": reason.strip()}
    errors: dict[str, str] = {}
    if scope not in SCOPES:
        errors["scope"] = "Choose what the hold covers: a case, an object or an account."
    if not posted["target"]:
        errors["target"] = "Give the id of the case, object or account to hold."
    if not posted["reason"]:
        errors["reason"] = "Say why the material must be kept (it goes to the audit log)."
    if not errors:
        with _db(request).session() as s:
            if scope == "object" and s.get(EvidenceObject, posted["target"]) is None:
                errors["target"] = f"No evidence object '{posted['target']}'."
            elif (
                scope == "case"
                and s.scalar(select(EvidenceObject.id).where(EvidenceObject.case_id == posted["target"]).limit(1))
                is None
            ):
                errors["target"] = f"No preserved material for case '{posted['target']}'."
            else:
                tgt = posted["target"]
                place_hold(
                    s,
                    actor=me.actor,
                    reason=posted["reason"],
                    case_id=tgt if scope == "case" else None,
                    object_id=tgt if scope == "object" else None,
                    account_id=tgt if scope == "account" else None,
                )
    if errors:
        return _page(request, me, errors=errors, posted=posted, status=422)
    return redirect(f"{PREFIX}/evidence?placed=1", request)


@router.post("/evidence/holds/{hold_id}/release", dependencies=CSRF)
def evidence_release_hold(
    request: Request, me: Manager, hold_id: str, reason: Annotated[str, Form(max_length=3000)] = ""
) -> Response:
    if not reason.strip():
        return _page(request, me, errors={f"release-{hold_id}": "Say why the hold ends."}, status=422)
    try:
        with _db(request).session() as s:
            release_hold(s, hold_id, actor=me.actor, reason=reason.strip())
    except HavenError as exc:
        if exc.status_code != 409:
            raise
        return _page(request, me, errors={f"release-{hold_id}": exc.message}, status=409)
    return redirect(f"{PREFIX}/evidence?released=1", request)


@router.get("/evidence/objects/{object_id}")
def evidence_object(request: Request, me: Manager, object_id: str) -> Response:
    """An object's facts and custody record: every access and event, oldest first."""
    with _db(request).session() as s:
        authorise_manage(me.actor)
        obj = get_object(s, object_id)
        holds = [hold_row(h) for h in active_holds(s, obj)] if obj.destroyed_at is None else []
        custody = custody_record(s, obj.id)
    return render(request, "evidence_object.html", {"obj": obj, "holds": holds, "custody": custody}, me=me)
