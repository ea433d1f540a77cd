"""Routes of the public safety centre (`/safety/...`) and the hosted report form (`/report`).

Server-rendered, one language per request (`?lang=` or `Accept-Language`, haven.core.i18n
domain `safety`), no cookies, no scripts, only this host's stylesheet. The report form calls
`haven.enforce.notices.service.file_report`, the function behind `POST /v1/reports`.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select

from haven.core import i18n
from haven.core.errors import HavenError, NotFound
from haven.core.ledger import record_event
from haven.core.models import Integration
from haven.core.web import client_ip
from haven.policy.categories import CATEGORIES
from haven.safety import guard
from haven.safety.config import safety_settings
from haven.safety.summary import reading_grade, summarise

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).resolve().parent
DOMAIN = "safety"
PAGES = ("teens", "parents", "educators", "sextortion")
FORM_INTEGRATION = "hosted-report-form"


@lru_cache(maxsize=16)
def _env(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(i18n.translations(DOMAIN, lang), newstyle=True)  # type: ignore[attr-defined]
    return env


@lru_cache(maxsize=1)
def hotlines() -> dict[str, list[dict[str, str]]]:
    text = resources.files("haven.safety").joinpath("data/hotlines.yaml").read_text(encoding="utf-8")
    data: dict[str, list[dict[str, str]]] = yaml.safe_load(text)
    return data


def _lang(request: Request) -> str:
    return i18n.negotiate(request.query_params.get("lang") or request.headers.get("accept-language"), DOMAIN)


def _headers() -> dict[str, str]:
    cfg = safety_settings()
    ancestors = " ".join(["'self'", *cfg.embed_origins]) if cfg.embed_origins else "'none'"
    return {
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
            f"frame-ancestors {ancestors}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def page(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    lang = _lang(request)
    cfg = safety_settings()
    html = (
        _env(lang)
        .get_template(template)
        .render(
            lang=lang,
            languages=[(code, i18n.language_name(code)) for code in i18n.available(DOMAIN)],
            path=request.url.path,
            theme=cfg,
            **ctx,
        )
    )
    return HTMLResponse(html, status_code=status, headers=_headers())


@router.get("/safety/theme.css")
def theme_css() -> Response:
    cfg = safety_settings()
    base = (HERE / "templates" / "safety.css").read_text(encoding="utf-8")
    css = f":root{{--accent:{cfg.accent};--bg:{cfg.background}}}\n" + base
    return Response(
        css, media_type="text/css", headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"}
    )


@router.get("/safety", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    return page(request, "index.html")


@router.get("/safety/help", response_class=HTMLResponse)
def help_page(request: Request, country: str = "") -> HTMLResponse:
    data = hotlines()
    c = country.upper()[:2]
    return page(
        request,
        "help.html",
        country=c,
        countries=sorted(k for k in data if k != "international"),
        international=data.get("international", []),
        national=data.get(c, []),
    )


@router.get("/safety/terms", response_class=HTMLResponse)
@router.get("/safety/terms/{version}", response_class=HTMLResponse)
def terms_summary(request: Request, version: str | None = None) -> HTMLResponse:
    from haven.terms import service as terms

    with request.app.state.db.session() as s:
        row = terms.get(s, version) if version else terms.current(s)
        sections = summarise(row.markdown)
        return page(
            request,
            "terms.html",
            version=row.version,
            effective=row.effective_at.date().isoformat(),
            sections=sections,
            grade=reading_grade(sections),
        )


@router.get("/safety/transparency", response_class=HTMLResponse)
def transparency(request: Request) -> HTMLResponse:
    from haven.transparency.publish import listing

    return page(request, "transparency.html", reports=listing(request.app.state.settings.var_dir))


@router.get("/safety/transparency/{name}")
def transparency_file(name: str, request: Request) -> Response:
    from haven.transparency.publish import path_of

    p = path_of(request.app.state.settings.var_dir, name)
    if p is None:
        raise NotFound(f"no published report {name!r}", code="report_not_found")
    types = {"html": "text/html; charset=utf-8", "json": "application/json", "csv": "text/csv; charset=utf-8"}
    return FileResponse(p, media_type=types[p.suffix[1:]], headers=_headers())


@router.get("/safety/{name}", response_class=HTMLResponse)
def topic(name: str, request: Request) -> HTMLResponse:
    if name not in PAGES:
        raise NotFound(f"no safety page {name!r}", code="page_not_found")
    return page(request, f"{name}.html", international=hotlines().get("international", []))


# --- the report form ----------------------------------------------------------------------------

#: Categories offered on the form, child safety first (ids of haven.policy.categories).
FORM_CATEGORIES = (
    "csam",
    "sextortion",
    "grooming",
    "child_trafficking",
    "obscene_to_minor",
    "ncii",
    "adult_nudity",
    "other",
)


def _form(
    request: Request, status: int = 200, error: str | None = None, values: dict[str, Any] | None = None
) -> HTMLResponse:
    q = request.query_params
    v = {
        "target_type": q.get("target_type", "content"),
        "target_id": q.get("target_id", ""),
        "location_url": q.get("url", ""),
        "conversation": q.get("conversation", ""),
        "category": q.get("category", ""),
        **(values or {}),
    }
    return page(
        request,
        "report.html",
        status=status,
        error=error,
        v=v,
        token=guard.issue(request.app.state.settings),
        categories=[(c, CATEGORIES[c].title, CATEGORIES[c].child_safety) for c in FORM_CATEGORIES],
    )


@router.get("/report", response_class=HTMLResponse)
def report_form(request: Request) -> HTMLResponse:
    return _form(request)


def _integration_id(session: Any) -> str:
    """Reports from the hosted form are filed under one integration of their own (no API key)."""
    row = session.scalar(select(Integration).where(Integration.name == FORM_INTEGRATION))
    if row is None:
        row = Integration(name=FORM_INTEGRATION, scopes=[])
        session.add(row)
        session.flush()
    return str(row.id)


@router.post("/report", response_class=HTMLResponse)
def report_submit(
    request: Request,
    token: Annotated[str, Form()],
    target_type: Annotated[str, Form()],
    target_id: Annotated[str, Form(max_length=200)],
    category: Annotated[str, Form(max_length=40)],
    explanation: Annotated[str, Form(max_length=5000)],
    location_url: Annotated[str, Form(max_length=2000)] = "",
    legal_basis: Annotated[str, Form(max_length=500)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    good_faith: Annotated[str, Form()] = "",
    imminent_risk: Annotated[str, Form()] = "",
    notify_outcome: Annotated[str, Form()] = "",
    conversation: Annotated[str, Form(max_length=200)] = "",
    attach_conversation: Annotated[str, Form()] = "",
    website: Annotated[str, Form()] = "",  # the honeypot
) -> HTMLResponse:
    from haven.enforce.notices.service import file_report

    values = {
        "target_type": target_type,
        "target_id": target_id,
        "location_url": location_url,
        "category": category,
        "explanation": explanation,
        "legal_basis": legal_basis,
        "name": name,
        "email": email,
        "conversation": conversation,
    }
    settings = request.app.state.settings
    refused = guard.check(settings, token, website)
    if refused:
        return _form(request, 400, refused, values)
    if not guard.allow(client_ip(request)):
        return _form(request, 429, "rate_limited", values)
    if target_type not in ("content", "account") or category not in FORM_CATEGORIES or not target_id.strip():
        return _form(request, 400, "invalid", values)
    text = explanation.strip()
    if legal_basis.strip():
        text = f"{text}\n\nLegal basis given by the reporter: {legal_basis.strip()}"
    anonymous = not (name.strip() and email.strip())
    try:
        with request.app.state.db.session() as s:
            report, case, _ = file_report(
                s,
                integration_id=_integration_id(s),
                actor="public:report-form",
                reporter_id=None,
                reporter_name=None if anonymous else name.strip(),
                reporter_email=None if anonymous else email.strip(),
                target_type=target_type,
                target_id=target_id.strip(),
                location_url=location_url.strip() or None,
                category=category,
                explanation=text or "-",
                good_faith=bool(good_faith),
                imminent_risk=bool(imminent_risk),
                notify_outcome=bool(notify_outcome) and not anonymous,
            )
            if conversation.strip() and attach_conversation:
                record_event(
                    s,
                    "user_report.conversation_consented",
                    subject_type="notice_case",
                    subject_id=case.id,
                    actor="public:report-form",
                    data={"report_id": report.id, "conversation_id": conversation.strip()},
                )
            report_id = report.id
    except HavenError as exc:
        return _form(request, 400, exc.code, values)
    link = f"/report/status/{report_id}?t={guard.outcome_token(settings, report_id)}"
    return page(request, "report_done.html", reference=report_id, link=link, status=201)


@router.get("/report/status/{report_id}", response_class=HTMLResponse)
def report_status(report_id: str, request: Request, t: str = "") -> HTMLResponse:
    import hmac

    from haven.enforce.notices.models import NoticeCase, UserReport

    if not hmac.compare_digest(t, guard.outcome_token(request.app.state.settings, report_id)):
        raise NotFound("no such report", code="report_not_found")
    with request.app.state.db.session() as s:
        r = s.get(UserReport, report_id)
        if r is None:
            raise NotFound("no such report", code="report_not_found")
        case = s.get(NoticeCase, r.case_id)
        state = "received" if case is None or case.status == "open" else (case.outcome or "closed")
        return page(
            request, "report_status.html", reference=report_id, state=state, received=r.received_at.date().isoformat()
        )
