"""Console pages of staff: sign-in with two-factor set-up, account and sessions, wellness
settings, training, and the admins' staff, training and audit-log pages."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Form, Query, Request
from fastapi.responses import Response, StreamingResponse
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.console.web import (
    PREFIX,
    ConsoleError,
    StaffContext,
    add_nav,
    clear_session_cookie,
    console_router,
    csrf_protect,
    current_staff,
    load_staff,
    redirect,
    render,
    safe_markdown,
    set_session_cookie,
    static_file,
)
from haven.core.actors import ROLES
from haven.core.clock import now
from haven.core.db import Database
from haven.core.errors import Forbidden, HavenError, Invalid, Unauthorized
from haven.core.ledger import audit
from haven.core.models import AuditRecord
from haven.core.web import client_ip
from haven.staff import service as svc
from haven.staff import training, wellness
from haven.staff.config import staff_settings
from haven.staff.models import StaffMember

router = console_router()
Me = Annotated[StaffContext, Depends(current_staff())]
Pending = Annotated[StaffContext, Depends(current_staff(stage="password"))]
Admin = Annotated[StaffContext, Depends(current_staff("admin"))]
CSRF = [Depends(csrf_protect)]

add_nav("Queues", f"{PREFIX}/")
add_nav("Training", f"{PREFIX}/training")
add_nav("Wellness", f"{PREFIX}/wellness")
add_nav("Exposure", f"{PREFIX}/exposure")
add_nav("Account", f"{PREFIX}/account")
add_nav("Staff", f"{PREFIX}/admin/staff", ("admin",))
add_nav("Training due", f"{PREFIX}/admin/training", ("admin",))
add_nav("Audit log", f"{PREFIX}/admin/audit", ("admin",))


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _safe_next(target: str | None) -> str:
    if target and target.startswith(f"{PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{PREFIX}/"


@router.get("")
def root(request: Request) -> Response:
    return redirect(f"{PREFIX}/")


@router.get("/static/{name}")
def static(name: str) -> Response:
    return static_file(name)


# --- sign-in ---------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    return render(request, "login.html", {"next": _safe_next(next)})


@router.post("/login", dependencies=CSRF)
def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "",
) -> Response:
    try:
        with _db(request).session() as s:
            ns = svc.sign_in_password(
                s, email, password, ip=client_ip(request), user_agent=request.headers.get("user-agent")
            )
            staff = s.get(StaffMember, ns.row.staff_id)
            enrolled = staff is not None and staff.totp_enabled_at is not None
    except (Unauthorized, Forbidden, svc.RateLimited, svc.Busy) as exc:
        page: Response = render(
            request,
            "login.html",
            {"message": exc.message, "email": email, "next": _safe_next(next)},
            status=exc.status_code,
        )
        if "retry_after" in exc.details:
            page.headers["Retry-After"] = str(exc.details["retry_after"])
        return page
    target = f"{PREFIX}/mfa" if enrolled else f"{PREFIX}/enrol"
    resp = redirect(f"{target}?{urlencode({'next': _safe_next(next)})}")
    set_session_cookie(resp, ns.token)
    return resp


@router.get("/setup/{token}")
def setup_page(request: Request, token: str) -> Response:
    with _db(request).session() as s:
        staff = svc.staff_for_setup_token(s, token)
    return render(request, "setup.html", {"staff": staff})


@router.post("/setup/{token}", dependencies=CSRF)
def setup(
    request: Request,
    token: str,
    password: Annotated[str, Form(max_length=1024)],
    confirm: Annotated[str, Form(max_length=1024)],
) -> Response:
    with _db(request).session() as s:
        staff = svc.staff_for_setup_token(s, token)
    if password != confirm:
        return render(request, "setup.html", {"staff": staff, "message": "the two passwords differ"}, status=422)
    try:
        with _db(request).session() as s:
            svc.complete_setup(s, token, password)
    except Invalid as exc:
        return render(request, "setup.html", {"staff": staff, "message": exc.message}, status=422)
    return render(
        request,
        "login.html",
        {
            "notice": "Password set. Sign in to set up two-factor authentication.",
            "email": staff.email,
            "next": f"{PREFIX}/",
        },
    )


@router.get("/enrol")
def enrol_page(request: Request, me: Pending) -> Response:
    return _enrol(request, me)


def _enrol(request: Request, me: StaffContext, message: str = "", status: int = 200) -> Response:
    with _db(request).session() as s:
        staff = svc.get_staff(s, me.staff_id)
        if staff.totp_enabled_at is not None:
            return redirect(f"{PREFIX}/mfa")
        secret = svc.begin_enrolment(staff)
        qr = Markup(svc.qr_svg(svc.provisioning_uri(staff)))  # noqa: S704  (generated by qrcode, no user input)
    return render(request, "enrol.html", {"qr": qr, "secret": secret, "message": message}, me=me, status=status)


@router.post("/enrol", dependencies=CSRF)
def enrol(request: Request, me: Pending, code: Annotated[str, Form(max_length=20)]) -> Response:
    try:
        with _db(request).session() as s:
            staff = svc.get_staff(s, me.staff_id)
            row = s.get(svc.StaffSession, me.session_id)
            assert row is not None
            codes = svc.confirm_enrolment(s, row, staff, code, ip=client_ip(request))
            token = svc.rotate_session_token(s, row)
            me = replace(me, csrf_token=row.csrf_token, stage="full")
    except (Unauthorized, Forbidden) as exc:
        return _enrol(request, me, exc.message, exc.status_code)
    resp = render(request, "recovery_codes.html", {"codes": codes}, me=me)
    set_session_cookie(resp, token)  # a new token once signed in (the pre-2FA one stops working)
    return resp


@router.get("/mfa")
def mfa_page(request: Request, me: Pending) -> Response:
    with _db(request).session() as s:
        if svc.get_staff(s, me.staff_id).totp_enabled_at is None:
            return redirect(f"{PREFIX}/enrol")
    return render(request, "mfa.html", {}, me=me)


@router.post("/mfa", dependencies=CSRF)
def mfa(request: Request, me: Pending, code: Annotated[str, Form(max_length=40)], next: str = "") -> Response:
    try:
        with _db(request).session() as s:
            staff = svc.get_staff(s, me.staff_id)
            row = s.get(svc.StaffSession, me.session_id)
            assert row is not None
            svc.verify_second_factor(s, row, staff, code, ip=client_ip(request))
            token = svc.rotate_session_token(s, row)
    except (Unauthorized, Forbidden) as exc:
        return render(request, "mfa.html", {"message": exc.message}, me=me, status=exc.status_code)
    resp = redirect(_safe_next(next or request.query_params.get("next")))
    set_session_cookie(resp, token)  # a new token once signed in (the pre-2FA one stops working)
    return resp


@router.post("/logout", dependencies=CSRF)
def logout(request: Request) -> Response:

    me = load_staff(request)
    if me is not None:
        with _db(request).session() as s:
            row = s.get(svc.StaffSession, me.session_id)
            if row is not None:
                svc.revoke_session(s, row)
            audit(s, actor=me.actor.ref, action="staff.sign_out", object_type="staff", object_id=me.staff_id)
    resp = redirect(f"{PREFIX}/login")
    clear_session_cookie(resp)
    return resp


# --- account, wellness, training -----------------------------------------------------------------


@router.get("/account")
def account(request: Request, me: Me) -> Response:
    with _db(request).session() as s:
        sessions = svc.active_sessions(s, me.staff_id)
        left = svc.remaining_recovery_codes(s, me.staff_id)
    return render(request, "account.html", {"sessions": sessions, "recovery_left": left}, me=me)


@router.post("/account/sign-out-everywhere", dependencies=CSRF)
def sign_out_everywhere(request: Request, me: Me) -> Response:
    with _db(request).session() as s:
        svc.revoke_all_sessions(s, me.staff_id, actor=me.actor.ref)
    resp = redirect(f"{PREFIX}/login")
    clear_session_cookie(resp)
    return resp


@router.post("/account/recovery-codes", dependencies=CSRF)
def recovery_codes(request: Request, me: Me) -> Response:
    with _db(request).session() as s:
        codes = svc.new_recovery_codes(s, svc.get_staff(s, me.staff_id))
        audit(s, actor=me.actor.ref, action="staff.recovery_codes", object_type="staff", object_id=me.staff_id)
    return render(request, "recovery_codes.html", {"codes": codes}, me=me)


@router.get("/wellness")
def wellness_page(request: Request, me: Me, saved: bool = False) -> Response:
    return render(
        request,
        "wellness.html",
        {"prefs": wellness.preferences(me.preferences), "limits": wellness.limits(), "saved": saved},
        me=me,
    )


@router.post("/wellness", dependencies=CSRF)
def wellness_save(
    request: Request,
    me: Me,
    blur: Annotated[str, Form()] = "",
    greyscale: Annotated[str, Form()] = "",
    autoplay: Annotated[str, Form()] = "",
    muted: Annotated[str, Form()] = "",
    per_session: Annotated[str, Form()] = "",
    per_day: Annotated[str, Form()] = "",
) -> Response:
    form = {
        "blur": blur,
        "greyscale": greyscale,
        "autoplay": autoplay,
        "muted": muted,
        "per_session": per_session,
        "per_day": per_day,
    }
    prefs = wellness.parse_form({k: v for k, v in form.items() if v != "" or k in ("greyscale", "autoplay", "muted")})
    with _db(request).session() as s:
        staff = svc.get_staff(s, me.staff_id)
        staff.preferences = prefs
        audit(
            s, actor=me.actor.ref, action="staff.preferences", object_type="staff", object_id=me.staff_id, details=prefs
        )
    return redirect(f"{PREFIX}/wellness?saved=1")


@router.get("/training")
def training_list(request: Request, me: Me) -> Response:
    with _db(request).session() as s:
        status = training.status(s, me.staff_id, roles=me.roles)
    return render(
        request, "training_list.html", {"status": status, "months": staff_settings().training_refresh_months}, me=me
    )


@router.get("/training/{slug}")
def training_module(request: Request, me: Me, slug: str) -> Response:
    with _db(request).session() as s:
        module = training.get_module(s, slug)
    body = safe_markdown(module.body)
    return render(request, "training_module.html", {"module": module, "body": body, "quiz": training.quiz(slug)}, me=me)


@router.post("/training/{slug}/complete", dependencies=CSRF)
async def training_complete(request: Request, me: Me, slug: str) -> Response:
    form = await request.form()
    answers = {k[2:]: str(v) for k, v in form.items() if k.startswith("q_")}
    try:
        with _db(request).session() as s:
            training.complete_module(s, svc.get_staff(s, me.staff_id), slug, actor=me.actor.ref, answers=answers)
    except Invalid as exc:
        if exc.code != "quiz_failed":
            raise
        with _db(request).session() as s:
            module = training.get_module(s, slug)
        ctx = {
            "module": module,
            "body": safe_markdown(module.body),
            "quiz": training.quiz(slug),
            "failed": exc,
            "wrong": set(exc.details.get("wrong", [])),
        }
        return render(request, "training_module.html", ctx, me=me, status=422)
    return redirect(f"{PREFIX}/training")


# --- admin -----------------------------------------------------------------------------------


def _staff_page(request: Request, me: StaffContext, extra: dict[str, Any] | None = None) -> Response:
    with _db(request).session() as s:
        staff = svc.list_staff(s)
    ctx = {"staff": staff, "roles": ROLES, "now": now(), "hours": int(staff_settings().setup_link_hours)}
    ctx.update(extra or {})
    return render(request, "admin_staff.html", ctx, me=me)


def _link(request: Request, token: str) -> str:
    base = request.app.state.settings.public_url.rstrip("/")
    return f"{base}{PREFIX}/setup/{token}"


@router.get("/admin/staff")
def admin_staff(request: Request, me: Admin) -> Response:
    return _staff_page(request, me)


@router.post("/admin/staff", dependencies=CSRF)
def admin_staff_create(
    request: Request, me: Admin, email: Annotated[str, Form(max_length=320)], roles: Annotated[list[str], Form()]
) -> Response:
    with _db(request).session() as s:
        created = svc.create_staff(s, email, roles, actor=me.actor.ref)
    return _staff_page(request, me, {"link": _link(request, created.setup_token or ""), "created_email": email})


@router.post("/admin/staff/{staff_id}/roles", dependencies=CSRF)
def admin_staff_roles(request: Request, me: Admin, staff_id: str, roles: Annotated[list[str], Form()]) -> Response:
    if staff_id == me.staff_id and "admin" not in roles:
        raise ConsoleError("you cannot remove your own admin role", code="own_admin", status_code=409)
    with _db(request).session() as s:
        svc.set_roles(s, svc.get_staff(s, staff_id), roles, actor=me.actor.ref)
    return redirect(f"{PREFIX}/admin/staff")


@router.post("/admin/staff/{staff_id}/reset", dependencies=CSRF)
def admin_staff_reset(request: Request, me: Admin, staff_id: str) -> Response:
    with _db(request).session() as s:
        staff = svc.get_staff(s, staff_id)
        token = svc.reset_setup(s, staff, actor=me.actor.ref)
        email = staff.email
    return _staff_page(request, me, {"link": _link(request, token), "created_email": email})


@router.post("/admin/staff/{staff_id}/disable", dependencies=CSRF)
def admin_staff_disable(request: Request, me: Admin, staff_id: str) -> Response:
    if staff_id == me.staff_id:
        raise ConsoleError("you cannot disable yourself", code="own_account", status_code=409)
    with _db(request).session() as s:
        svc.disable_staff(s, svc.get_staff(s, staff_id), actor=me.actor.ref)
    return redirect(f"{PREFIX}/admin/staff")


@router.get("/admin/training")
def admin_training(request: Request, me: Admin) -> Response:
    with _db(request).session() as s:
        due = training.who_is_due(s)
        modules = training.list_modules(s)
    return render(request, "admin_training.html", {"due": due, "modules": modules}, me=me)


@router.get("/admin/training/{slug}")
def admin_training_edit_page(request: Request, me: Admin, slug: str) -> Response:
    with _db(request).session() as s:
        module = training.get_module(s, slug)
    return render(request, "admin_training_edit.html", {"module": module}, me=me)


@router.post("/admin/training/{slug}", dependencies=CSRF)
def admin_training_edit(
    request: Request,
    me: Admin,
    slug: str,
    title: Annotated[str, Form(max_length=200)],
    body: Annotated[str, Form(max_length=200_000)],
    requires_refresh: Annotated[str, Form()] = "",
) -> Response:
    with _db(request).session() as s:
        training.edit_module(s, slug, title, body, requires_refresh=requires_refresh == "1", actor=me.actor.ref)
    return redirect(f"{PREFIX}/training/{slug}")


# --- audit log -------------------------------------------------------------------------------------

PAGE = 200


#: What the audit page's date fields accept (ISO 8601: a date, optionally a time), as an HTML pattern.
ISO_PATTERN = r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?"


def _parse_time(value: str | None, name: str, *, end_of_day: bool = False) -> datetime | None:
    """An ISO date or date and time (UTC unless it says otherwise); a date alone is the start of
    that day, or with end_of_day its last instant (a "to" date includes the whole day)."""
    value = (value or "").strip()
    if not value:
        return None
    if not re.fullmatch(ISO_PATTERN + r"(Z|[+-]\d{2}:?\d{2})?", value):
        raise Invalid(f"{name}: give a date like 2026-11-21, or a date and time like 2026-11-21 10:00", code="bad_time")
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{name}: {value} is not a date (YYYY-MM-DD, then HH:MM)", code="bad_time") from None
    if end_of_day and len(value) == 10:
        t = t + timedelta(days=1) - timedelta(microseconds=1)
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _audit_query(
    s: Session, staff: str | None, obj: str | None, action: str | None, since: datetime | None, until: datetime | None
) -> Any:
    q = select(AuditRecord)
    if staff:
        try:
            sid = svc.get_staff(s, staff).id
        except HavenError:
            sid = staff
        q = q.where(AuditRecord.actor == f"staff:{sid}")
    if obj:
        q = q.where(AuditRecord.object_id == obj.strip())
    if action:
        q = q.where(AuditRecord.action == action.strip())
    if since:
        q = q.where(AuditRecord.created_at >= since)
    if until:
        q = q.where(AuditRecord.created_at <= until)
    return q.order_by(AuditRecord.created_at.desc(), AuditRecord.id.desc())


@router.get("/admin/audit")
def admin_audit(
    request: Request,
    me: Admin,
    staff: Annotated[str | None, Query(max_length=320)] = None,
    object: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=80)] = None,
    since: str | None = None,
    until: str | None = None,
    before: str | None = None,
    format: str = "html",
) -> Response:
    t0, t1 = _parse_time(since, "from"), _parse_time(until, "to", end_of_day=True)
    filters = {
        k: v
        for k, v in {"staff": staff, "object": object, "action": action, "since": since, "until": until}.items()
        if v
    }
    db = _db(request)
    if format == "csv":
        with db.session() as s:
            audit(
                s, actor=me.actor.ref, action="audit.export", object_type="audit_log", object_id="csv", details=filters
            )
        return StreamingResponse(
            _csv_rows(db, staff, object, action, t0, t1),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="haven-audit.csv"', "Cache-Control": "no-store"},
        )
    with db.session() as s:
        q = _audit_query(s, staff, object, action, t0, t1)
        if before:
            q = q.where(AuditRecord.id < before)
        rows = list(s.scalars(q.limit(PAGE + 1)))
        names = {f"staff:{m.id}": m.email for m in svc.list_staff(s)}
    more = None
    if len(rows) > PAGE:
        rows = rows[:PAGE]
        more = f"{PREFIX}/admin/audit?{urlencode({**filters, 'before': rows[-1].id})}"
    csv_url = f"{PREFIX}/admin/audit?{urlencode({**filters, 'format': 'csv'})}"
    return render(
        request,
        "admin_audit.html",
        {"rows": rows, "names": names, "f": filters, "more": more, "csv_url": csv_url, "iso_pattern": ISO_PATTERN},
        me=me,
    )


#: A spreadsheet runs a cell starting with one of these as a formula (`=HYPERLINK(...)` in an
#: uploader id, say); such cells are written with a leading apostrophe (OWASP's advice).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cells(*values: str) -> list[str]:
    """CSV cells that a spreadsheet shows as text, never evaluates."""
    return [f"'{v}" if v.startswith(FORMULA_START) else v for v in values]


def _csv_rows(
    db: Database, staff: str | None, obj: str | None, action: str | None, since: datetime | None, until: datetime | None
) -> Iterator[str]:
    """Every matching record (no cap: a full history is what transparency reports need)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            "id",
            "created_at",
            "actor",
            "actor_email",
            "action",
            "object_type",
            "object_id",
            "purpose",
            "source_ip",
            "details",
        ]
    )
    yield buf.getvalue()
    with db.replica() as s:  # the full history: an export the read replica can carry
        names = {f"staff:{m.id}": m.email for m in svc.list_staff(s)}
        q = _audit_query(s, staff, obj, action, since, until)
        for r in s.scalars(q.execution_options(yield_per=1000)):
            buf.seek(0)
            buf.truncate()
            import json

            w.writerow(
                csv_cells(
                    r.id,
                    r.created_at.isoformat(),
                    r.actor,
                    names.get(r.actor, ""),
                    r.action,
                    r.object_type,
                    r.object_id,
                    r.purpose or "",
                    r.source_ip or "",
                    json.dumps(r.details, sort_keys=True),
                )
            )
            yield buf.getvalue()
