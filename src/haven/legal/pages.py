"""Console pages for law-enforcement requests (role `legal`): the list with deadlines, overdue
requests first, requester verification and non-disclosure orders; a request's page with its
targets, its holds and what its kind of process allows to be produced — the production form
offers only that, and `haven.legal.service.produce` refuses anything more."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from haven.accounts.models import Account
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
from haven.legal import service
from haven.legal.models import LegalRequest

add_template_dir(Path(__file__).resolve().parent / "templates")
add_nav("Legal requests", f"{PREFIX}/legal", service.ROLES)
router = console_router()
LegalStaff = Annotated[StaffContext, Depends(current_staff(*service.ROLES))]
CSRF = [Depends(csrf_protect)]
#: What each category of production holds, in words for the person deciding.
CATEGORY_TEXT = {
    "subscriber": "Subscriber information: the account's records (created, state, age band)",
    "non_content": "Non-content records: times, IP addresses, recipients and sizes of the account's items",
    "content": "Content: the account's preserved files from the evidence vault, with hashes and custody record",
}
KIND_TEXT = {
    "preservation": "Preservation letter, 18 U.S.C. 2703(f): keep, produce nothing; 90 days, renewable once",
    "subpoena": "Subpoena, 2703(c)(2): basic subscriber information",
    "court_order": "Court order, 2703(d): subscriber information and non-content records",
    "search_warrant": "Search warrant, 2703(a)-(b): subscriber, non-content records and content",
    "emergency": "Emergency disclosure, 2702(b)(8): voluntary, on a good-faith belief of danger; verify first",
    "foreign": "Foreign request: nothing is produced on it; it goes through an MLAT or a CLOUD Act agreement",
}


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _dt(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


@router.get("/legal")
def legal_list(request: Request, me: LegalStaff, closed: bool = False) -> Response:
    with _db(request).session() as s:
        rows = service.listing(s, me.actor, include_closed=closed)
    t = now()
    for r in rows:
        r["due"] = _dt(r["due_at"])
        ndo = _dt(r["nondisclosure_until"])
        r["ndo"] = ndo
        r["ndo_active"] = ndo is not None and ndo > t
    return render(request, "legal_list.html", {"rows": rows, "closed": closed, "kinds": KIND_TEXT}, me=me)


def _page(request: Request, me: StaffContext, request_id: str, error: HavenError | None = None) -> Response:
    with _db(request).session() as s:
        req = service.get_request(s, request_id, me.actor)
        info = service.row(req)
        accounts = {a.id: a for a in s.scalars(select(Account).where(Account.id.in_(req.targets)))}
        objects: dict[str, int] = {}
        for acc in req.targets:
            objects[acc] = len(
                list(
                    s.scalars(
                        select(EvidenceObject.id).where(
                            EvidenceObject.account_id == acc, EvidenceObject.destroyed_at.is_(None)
                        )
                    )
                )
            )
        holds = list(s.scalars(select(LegalHold).where(LegalHold.legal_request_id == req.id)))
        t = now()
        ctx: dict[str, Any] = {
            "req": req,
            "info": info,
            "accounts": accounts,
            "objects": objects,
            "holds": holds,
            "ndo_active": req.nondisclosure_until is not None and req.nondisclosure_until > t,
            "overdue": info["overdue"],
            "kind_text": KIND_TEXT[req.kind],
            "allowed": service.ALLOWED[req.kind],
            "refused": [c for c in service.CATEGORIES if c not in service.ALLOWED[req.kind]],
            "category_text": CATEGORY_TEXT,
            "error": error,
            "now_": t,
        }
    return render(request, "legal_request.html", ctx, me=me, status=error.status_code if error else 200)


@router.get("/legal/{request_id}")
def legal_request(request: Request, me: LegalStaff, request_id: str) -> Response:
    return _page(request, me, request_id)


@router.post("/legal/{request_id}/verify", dependencies=CSRF)
def legal_verify(
    request: Request,
    me: LegalStaff,
    request_id: str,
    outcome: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Record the independent check of the requester (a call back to the agency's published number)."""
    if outcome not in ("verified", "failed"):
        return _page(request, me, request_id, HavenError("choose verified or failed", code="invalid_outcome"))
    try:
        with _db(request).session() as s:
            service.verify(s, request_id, me.actor, verified=outcome == "verified", note=note)
    except HavenError as exc:
        if exc.status_code in (401, 403, 404):
            raise
        return _page(request, me, request_id, exc)
    return redirect(f"{PREFIX}/legal/{request_id}", request)


@router.post("/legal/{request_id}/notice", dependencies=CSRF)
def legal_notice(
    request: Request,
    me: LegalStaff,
    request_id: str,
    decision: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Decide whether the user is told (refused while a non-disclosure order runs)."""
    if not reason.strip():
        return _page(request, me, request_id, HavenError("give the reason for the decision", code="reason_required"))
    try:
        with _db(request).session() as s:
            service.decide_notice(s, request_id, me.actor, decision=decision, reason=reason.strip())
    except HavenError as exc:
        if exc.status_code in (401, 403, 404):
            raise
        return _page(request, me, request_id, exc)
    return redirect(f"{PREFIX}/legal/{request_id}", request)


@router.post("/legal/{request_id}/produce", dependencies=CSRF)
def legal_produce(
    request: Request,
    me: LegalStaff,
    request_id: str,
    include: Annotated[list[str], Form()] = [],  # noqa: B006  (FastAPI copies defaults)
    purpose: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Download the production package: only what the process allows, for a verified requester;
    every object read is audited with the stated purpose."""
    if not purpose.strip():
        return _page(
            request, me, request_id, HavenError("state the purpose of the production", code="purpose_required")
        )
    settings = request.app.state.settings
    try:
        with _db(request).session() as s:
            blob = service.produce(s, settings, request_id, me.actor, include=include, purpose=purpose.strip())
            ref = s.get(LegalRequest, request_id)
            name = f"production-{(ref.reference if ref and ref.reference else request_id)}.zip"
    except HavenError as exc:
        if exc.status_code in (401, 404) or exc.code == "role_required":
            raise
        return _page(request, me, request_id, exc)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return Response(
        blob,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{safe}"', "Cache-Control": "no-store"},
    )
