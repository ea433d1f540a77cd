"""Console plumbing: the Jinja2 environment, `current_staff`, CSRF, HTML errors, static files."""

from __future__ import annotations

import hmac
import mimetypes
import re
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import markdown
from fastapi import APIRouter, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

from haven.core.actors import Actor
from haven.core.clock import now
from haven.core.db import Database
from haven.core.errors import Forbidden, HavenError, Unauthorized
from haven.staff.config import staff_settings
from haven.staff.service import resolve_session

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
SESSION_COOKIE = "haven_session"
PREAUTH_COOKIE = "haven_csrf"
PREFIX = "/console"

_template_dirs: list[str] = [str(HERE / "templates")]
env = Environment(loader=FileSystemLoader(_template_dirs), autoescape=select_autoescape(default=True))


def add_template_dir(path: Path) -> None:
    """Let the console find a capability's templates (its own names win over later ones)."""
    p = str(path)
    if p not in _template_dirs:
        _template_dirs.append(p)
        env.loader = FileSystemLoader(_template_dirs)


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    roles: tuple[str, ...]  # empty: everyone signed in


_nav: list[NavItem] = []


def add_nav(label: str, path: str, roles: tuple[str, ...] = ()) -> None:
    """Add a link to the console's navigation, shown to people with one of `roles`."""
    if all(n.path != path for n in _nav):
        _nav.append(NavItem(label, path, roles))


@dataclass(frozen=True)
class StaffContext:
    """The signed-in staff member of a console request."""

    staff_id: str
    email: str
    display_name: str
    roles: frozenset[str]
    session_id: str
    csrf_token: str
    stage: str
    preferences: dict[str, Any] = field(default_factory=dict)

    @property
    def actor(self) -> Actor:
        return Actor("staff", self.staff_id, self.roles)

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


class ConsoleError(HavenError):
    """An error shown as a console page."""


class SignInRequired(Unauthorized):
    code = "sign_in_required"


# --- time filters ----------------------------------------------------------------------------


def _minutes(delta_s: float) -> str:
    m = int(abs(delta_s) // 60)
    if m < 60:
        return f"{m} min"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h} h {m:02d} min"
    return f"{h // 24} d {h % 24} h"


def timeleft(due: datetime | None) -> str:
    if due is None:
        return "—"
    s = (due - now()).total_seconds()
    return f"{_minutes(s)} left" if s >= 0 else f"overdue by {_minutes(s)}"


def when(t: datetime | str | None) -> str:
    """A time as every page shows it (2026-11-21 10:04 UTC); ISO strings (stored message times) too."""
    if isinstance(t, str):
        try:
            t = datetime.fromisoformat(t)
        except ValueError:
            return str(t)
    if t is None:
        return "—"
    if t.tzinfo is not None:
        t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%d %H:%M UTC")


def role_label(role: str) -> str:
    """A role as people read it ("child-safety reviewer"), not its identifier."""
    from haven.core.actors import ROLE_LABELS

    return ROLE_LABELS.get(role, role.replace("_", " "))


@pass_context
def csrf_field(ctx: Any) -> Markup:
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(ctx.get("csrf_token", ""))


env.filters["timeleft"] = timeleft
env.filters["when"] = when
env.filters["role"] = role_label
env.globals["csrf_field"] = csrf_field


# --- Markdown written by admins ---------------------------------------------------------------

_SAFE_SCHEMES = ("", "http", "https", "mailto")


class _SafeLinks(Treeprocessor):
    def run(self, root: Any) -> None:
        for el in root.iter():
            for attr in ("href", "src"):
                value = el.get(attr)
                if value is None:
                    continue
                bare = "".join(ch for ch in value if ord(ch) > 32).lower()
                if urlsplit(bare).scheme not in _SAFE_SCHEMES:
                    el.set(attr, "#")


class _NoRawHtml(Extension):
    """Raw HTML in the source is shown as text, and links and images may only use http(s),
    mailto or relative addresses (no `javascript:` or `data:`)."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_SafeLinks(md), "haven_safe_links", 0)


def safe_markdown(text: str) -> Markup:
    """HTML of admin-written Markdown (training modules) with no raw HTML passed through."""
    html = markdown.markdown(text, extensions=["extra", _NoRawHtml()])
    return Markup(html)  # noqa: S704  (raw HTML removed, link schemes checked above)


# --- rendering ---------------------------------------------------------------------------------

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def _cookie_kwargs() -> dict[str, Any]:
    return {"httponly": True, "samesite": "strict", "secure": staff_settings().cookie_secure, "path": PREFIX}


def set_session_cookie(response: Response, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, **_cookie_kwargs())


def clear_session_cookie(response: Response) -> None:
    kw = _cookie_kwargs()
    response.delete_cookie(SESSION_COOKIE, path=PREFIX, secure=kw["secure"], httponly=True, samesite="strict")


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    me: StaffContext | None = None,
    status: int = 200,
) -> HTMLResponse:
    """Render a console page (with the navigation, CSRF token and security headers)."""
    me = me or getattr(request.state, "staff", None)
    new_preauth = None
    if (me is not None and me.stage == "full") or me is not None:
        csrf = me.csrf_token
    else:
        csrf = request.cookies.get(PREAUTH_COOKIE) or ""
        if not csrf:
            csrf = new_preauth = secrets.token_urlsafe(32)
    nav = (
        [n for n in _nav if not n.roles or (me is not None and me.has_any(*n.roles))]
        if me and me.stage == "full"
        else []
    )
    decided = request.query_params.get("decided", "")
    ctx = {
        "request": request,
        "me": me,
        "csrf_token": csrf,
        "nav": nav,
        "path": request.url.path,
        "prefix": PREFIX,
        # A decision just submitted: the next page links to what followed it (ids only, checked).
        "decided": decided if me is not None and _DECISION_ID.fullmatch(decided) else "",
    }
    ctx.update(context or {})
    html = env.get_template(template).render(ctx)
    resp = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    if new_preauth:
        resp.set_cookie(PREAUTH_COOKIE, new_preauth, **_cookie_kwargs())
    return resp


_DECISION_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


def redirect(path: str, request: Request | None = None) -> Response:
    """303 to `path`; for htmx requests an `HX-Redirect` so the whole page changes."""
    if request is not None and request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": path})
    return RedirectResponse(path, status_code=303)


def _error_page(request: Request, exc: HavenError) -> Response:
    if isinstance(exc, SignInRequired):
        target = exc.details.get("location") or f"{PREFIX}/login?next={quote(request.url.path)}"
        resp = redirect(target, request)
        if exc.details.get("clear"):
            clear_session_cookie(resp)
        return resp
    if "application/json" in request.headers.get("accept", "") and "text/html" not in request.headers.get("accept", ""):
        from fastapi.responses import JSONResponse

        return JSONResponse(exc.to_dict(), status_code=exc.status_code)
    if exc.code == "break_needed":
        return redirect(f"{PREFIX}/break", request)
    return render(request, "error.html", {"error": exc}, status=exc.status_code)


class ConsoleRoute(APIRoute):
    """Turns Haven's errors in console routes into pages (and sign-in redirects)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except HavenError as exc:
                return _error_page(request, exc)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ())[1:])
                err = HavenError(
                    f"{where}: {first.get('msg', 'invalid request')}", code="invalid_request", status_code=422
                )
                return _error_page(request, err)

        return handler


def console_router() -> APIRouter:
    """A router for console pages under /console (HTML errors, not in the API schema)."""
    return APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


# --- the staff-session dependency ---------------------------------------------------------------


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def load_staff(request: Request) -> StaffContext | None:
    """The session behind the request's cookie (any stage), or None."""

    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with _db(request).session() as s:
        found = resolve_session(s, token)
        if found is None:
            return None
        row, staff = found
        return StaffContext(
            staff_id=staff.id,
            email=staff.email,
            display_name=staff.display_name,
            roles=frozenset(staff.roles),
            session_id=row.id,
            csrf_token=row.csrf_token,
            stage=row.stage,
            preferences=dict(staff.preferences or {}),
        )


def current_staff(*roles: str, stage: str = "full") -> Callable[[Request], StaffContext]:
    """A dependency: the signed-in staff member, who must hold one of `roles` (any role when
    none are given). Not signed in: redirect to sign-in; wrong role: 403. `stage="password"`
    is for the two-factor pages between password and code."""

    def dependency(request: Request) -> StaffContext:
        me = load_staff(request)
        if me is None:
            raise SignInRequired("sign in to use the console", details={"clear": True})
        if stage == "full" and me.stage != "full":
            raise SignInRequired("finish signing in", details={"location": f"{PREFIX}/mfa"})
        if stage == "password" and me.stage == "full":
            raise SignInRequired("already signed in", details={"location": f"{PREFIX}/"})
        # Known before the role check, so a 403 page keeps the person's navigation.
        request.state.staff = me
        if roles and not me.has_any(*roles):
            raise Forbidden(f"this page needs one of the roles: {', '.join(roles)}", code="role_required")
        return me

    dependency.__name__ = f"current_staff_{'_'.join(roles) or 'any'}"
    dependency.roles = roles  # type: ignore[attr-defined]
    return dependency


def csrf_protect(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Check the form's (or the `X-CSRF-Token` header's) token against the session's, or before
    sign-in against the pre-auth cookie (double submit). SameSite=Strict cookies are a second wall."""
    sent = csrf_token or request.headers.get("x-csrf-token", "")
    me = load_staff(request)
    expected = me.csrf_token if me is not None else request.cookies.get(PREAUTH_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden("the form expired or did not come from the console; reload the page and try again", code="csrf")


# --- static files ----------------------------------------------------------------------------------

_STATIC_FILES = {p.name: p for p in STATIC.iterdir() if p.is_file()} if STATIC.exists() else {}


def static_file(name: str) -> Response:
    path = _STATIC_FILES.get(name)
    if path is None:
        raise ConsoleError("no such file", code="not_found", status_code=404)
    ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Response(
        path.read_bytes(),
        media_type=ctype,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
