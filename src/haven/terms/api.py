"""HTTP routes of terms: public terms pages, terms versions and acceptances."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Annotated

import markdown as md
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from haven.core.auth import Principal
from haven.core.web import require_scope
from haven.terms import service as terms
from haven.terms.models import TermsAcceptance, TermsVersion

router = APIRouter(tags=["terms"])
Accounts = Annotated[Principal, Depends(require_scope("accounts"))]
Admin = Annotated[Principal, Depends(require_scope("admin"))]


class TermsOut(BaseModel):
    version: str
    title: str
    summary: str
    effective_at: datetime
    published_at: datetime
    url: str


class TermsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")
    title: str = Field("Terms of service", min_length=1, max_length=200)
    markdown: str = Field(min_length=1, max_length=500_000)
    summary: str = Field("", max_length=2000, description="what changed, for the users' notification")
    effective_at: datetime


class AcceptanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=40)
    accepted_at: datetime | None = Field(None, description="when the user accepted (default: now)")


class AcceptanceOut(BaseModel):
    account_id: str
    version: str
    accepted_at: datetime
    url: str


def _out(request: Request, row: TermsVersion) -> TermsOut:
    base = request.app.state.settings.public_url
    return TermsOut(
        version=row.version,
        title=row.title,
        summary=row.summary,
        effective_at=row.effective_at,
        published_at=row.published_at,
        url=terms.public_url(base, row.version),
    )


def _acc(request: Request, row: TermsAcceptance) -> AcceptanceOut:
    base = request.app.state.settings.public_url
    return AcceptanceOut(
        account_id=row.account_id,
        version=row.version,
        accepted_at=row.accepted_at,
        url=terms.public_url(base, row.version),
    )


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}
.meta{{color:#555}}</style></head><body>
<p class="meta">Version {version}, in effect from {effective}.</p>
{body}
</body></html>"""


@router.get("/terms", include_in_schema=False)
def terms_current(request: Request) -> RedirectResponse:
    """The terms in effect now (a redirect to the version's permanent address)."""
    with request.app.state.db.session() as session:
        return RedirectResponse(f"/terms/{terms.current(session).version}", status_code=302)


@router.get("/terms/{version}", response_class=HTMLResponse)
def terms_page(version: str, request: Request, format: str = "html") -> Response:
    """A terms version, public: HTML by default, `?format=md` for the Markdown source."""
    with request.app.state.db.session() as session:
        row = terms.get(session, version)
        if format == "md":
            return PlainTextResponse(row.markdown, media_type="text/markdown; charset=utf-8")
        body = md.markdown(row.markdown, extensions=["sane_lists"])
        return HTMLResponse(
            _PAGE.format(
                title=escape(row.title),
                version=escape(row.version),
                effective=row.effective_at.date().isoformat(),
                body=body,
            )
        )


@router.get("/v1/terms", response_model=list[TermsOut])
def list_terms(request: Request, _: Accounts) -> list[TermsOut]:
    """Every published version, oldest first."""
    with request.app.state.db.session() as session:
        return [_out(request, r) for r in terms.all_versions(session)]


@router.post("/v1/terms", response_model=TermsOut, status_code=201)
def publish_terms(body: TermsIn, request: Request, principal: Admin) -> TermsOut:
    """Publish a new version; the service is told through the `tos.updated` webhook."""
    with request.app.state.db.session() as session:
        terms.ensure_default(session)
        row = terms.publish(
            session,
            version=body.version,
            markdown=body.markdown,
            effective_at=body.effective_at,
            title=body.title,
            summary=body.summary,
            actor=principal.actor,
        )
        return _out(request, row)


@router.post("/v1/accounts/{account_id}/tos-acceptances", response_model=AcceptanceOut, status_code=201)
def accept_terms(
    account_id: str, body: AcceptanceIn, request: Request, response: Response, principal: Accounts
) -> AcceptanceOut:
    """Record that an account accepted a terms version (200 when it was already recorded)."""
    with request.app.state.db.session() as session:
        row, created = terms.accept(
            session,
            account_id=account_id,
            version=body.version,
            accepted_at=body.accepted_at,
            integration_id=principal.integration_id,
            actor=principal.actor,
        )
        if not created:
            response.status_code = 200
        return _acc(request, row)


@router.get("/v1/accounts/{account_id}/tos-acceptances", response_model=list[AcceptanceOut])
def list_acceptances(account_id: str, request: Request, _: Accounts) -> list[AcceptanceOut]:
    with request.app.state.db.session() as session:
        return [_acc(request, r) for r in terms.acceptances(session, account_id)]
