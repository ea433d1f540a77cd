"""Console pages of youth: an account's assured age (method, level, history of signals and
re-assurance requests) with staff override (reason required, audited, `age.override`) and purge
of age data; the youth dashboard (accounts by band and level, re-assurance pending). Reading an
account's age data is a child's data: audited (`youth.age_view`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from haven.accounts.service import set_age_band
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
from haven.core.errors import Conflict, Invalid
from haven.core.ledger import audit, record_event
from haven.youth.models import AgeSignal, AssuredAge, ReassuranceRequest
from haven.youth.service import current, protections_for, purge, tell_protections

add_template_dir(Path(__file__).resolve().parent / "templates" / "console")
router = console_router()
Viewer = Annotated[StaffContext, Depends(current_staff("admin", "senior"))]
Admin = Annotated[StaffContext, Depends(current_staff("admin"))]
add_nav("Youth", f"{PREFIX}/youth", ("admin", "senior"))
BANDS = ("under_13", "13_15", "16_17", "adult", "unknown")
LEVELS = ("none", "asserted", "standard", "enhanced", "strict")


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


@router.get("/youth")
def dashboard(request: Request, me: Viewer, account: str = "") -> Response:
    if account.strip():
        return redirect(f"{PREFIX}/youth/accounts/{quote(account.strip(), safe='')}", request)
    with _db(request).session() as s:
        grid = {
            (b, lv): int(n)
            for b, lv, n in s.execute(
                select(AssuredAge.age_band, AssuredAge.level, func.count()).group_by(
                    AssuredAge.age_band, AssuredAge.level
                )
            )
        }
        pending = list(
            s.scalars(
                select(ReassuranceRequest)
                .where(ReassuranceRequest.status == "pending")
                .order_by(ReassuranceRequest.created_at)
                .limit(200)
            )
        )
        s.expunge_all()
    return render(
        request, "youth_dashboard.html", {"grid": grid, "bands": BANDS, "levels": LEVELS, "pending": pending}, me=me
    )


@router.get("/youth/accounts/{account_id}")
def account_page(request: Request, me: Viewer, account_id: str, done: str = "") -> Response:
    with _db(request).session() as s:
        assured = current(s, account_id)
        prot = protections_for(s, account_id)
        signals = list(s.scalars(select(AgeSignal).where(AgeSignal.account_id == account_id).order_by(AgeSignal.id)))
        requests = list(
            s.scalars(
                select(ReassuranceRequest)
                .where(ReassuranceRequest.account_id == account_id)
                .order_by(ReassuranceRequest.created_at)
            )
        )
        row = s.get(AssuredAge, account_id)
        override = (row.override_by, row.override_reason) if row and row.override_by else None
        audit(
            s,
            actor=me.actor.ref,
            action="youth.age_view",
            object_type="account",
            object_id=account_id,
            purpose="youth.console",
        )
        s.flush()
        s.expunge_all()
    return render(
        request,
        "youth_account.html",
        {
            "account_id": account_id,
            "assured": assured,
            "prot": prot,
            "signals": signals,
            "requests": requests,
            "override": override,
            "bands": BANDS[:-1],
            "levels": LEVELS[1:],
            "can_change": "admin" in me.roles,
            "done": done,
        },
        me=me,
    )


@router.post("/youth/accounts/{account_id}/override", dependencies=[Depends(csrf_protect)])
def override(
    request: Request,
    me: Admin,
    account_id: str,
    age_band: Annotated[str, Form()],
    level: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Set the assured age by hand (a reason is required); stands until a newer signal arrives."""
    if len(reason.strip()) < 5:
        raise Invalid("an override needs a reason", code="reason_required")
    if age_band not in BANDS[:-1] or level not in LEVELS[1:]:
        raise Invalid("unknown band or level", code="invalid_override")
    with _db(request).session() as s:
        before = current(s, account_id)
        before_prot = protections_for(s, account_id)
        row = s.get(AssuredAge, account_id) or AssuredAge(account_id=account_id)
        s.add(row)
        row.age_band, row.level, row.method = age_band, level, "staff_override"
        row.why = [f"set by {me.actor.ref}: {reason.strip()[:400]}"]
        row.override_by, row.override_reason = me.actor.ref, reason.strip()[:500]
        s.flush()
        set_age_band(s, account_id, age_band, actor=me.actor.ref, source="assured")
        record_event(
            s,
            "age.override",
            subject_type="account",
            subject_id=account_id,
            actor=me.actor.ref,
            data={
                "age_band": age_band,
                "level": level,
                "previous_band": before.age_band,
                "reason": reason.strip()[:500],
            },
        )
        audit(
            s,
            actor=me.actor.ref,
            action="age.override",
            object_type="account",
            object_id=account_id,
            purpose="youth.console",
            details={"age_band": age_band, "level": level},
        )
        tell_protections(s, account_id, before_prot, actor=me.actor.ref)
    return redirect(f"{PREFIX}/youth/accounts/{account_id}?done=override", request)


@router.post("/youth/accounts/{account_id}/purge", dependencies=[Depends(csrf_protect)])
def purge_age_data(request: Request, me: Admin, account_id: str, reason: Annotated[str, Form()] = "") -> Response:
    """Delete the account's age signals and assured age (its band stays as last applied)."""
    if len(reason.strip()) < 5:
        raise Invalid("a purge needs a reason", code="reason_required")
    with _db(request).session() as s:
        # privacy reads every capability: imported here so that youth stays below it
        from haven.privacy.protect import protected

        kept = protected(s).accounts.get(account_id)
        if kept:
            raise Conflict(
                f"this account's age data is kept ({', '.join(sorted(kept))}); release that first",
                code="age_data_protected",
            )
        n = purge(s, account_id)
        record_event(
            s,
            "age.purged",
            subject_type="account",
            subject_id=account_id,
            actor=me.actor.ref,
            data={"signals": n, "reason": reason.strip()[:500]},
        )
        audit(
            s,
            actor=me.actor.ref,
            action="age.purge",
            object_type="account",
            object_id=account_id,
            purpose="youth.console",
            details={"signals": n},
        )
    return redirect(f"{PREFIX}/youth/accounts/{account_id}?done=purged", request)
