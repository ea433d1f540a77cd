"""`/v1/reports`: the report desk for an integration holding the `reports` scope (until the
console's staff sign-in exists). The scope acts with the `legal` role on report cases; it
never decrypts evidence."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, Field

from haven.core.actors import Actor
from haven.core.auth import Principal
from haven.core.web import SessionDep, SettingsDep, require_scope
from haven.cybertip import cases
from haven.cybertip.config import cybertip_settings
from haven.cybertip.service import calls, summary

router = APIRouter(prefix="/v1/cybertipline/reports", tags=["reports"])
ReportsScope = Annotated[Principal, Depends(require_scope("reports"))]


def _actor(p: Principal) -> Actor:
    return Actor("integration", p.integration_id, frozenset({"legal"}))


class CaseChanges(BaseModel):
    content_ids: list[str] | None = None
    incident_description: str | None = None
    escalation_reason: str | None = Field(None, max_length=3000)
    annotations: list[str] | None = None
    reported_account: dict[str, Any] | None = None
    recipients: list[dict[str, Any]] | None = None
    victims: list[dict[str, Any]] | None = None
    classifications: dict[str, str] | None = None
    file_annotations: dict[str, list[str]] | None = None
    prior_reports: list[int] | None = None
    additional_info: str | None = None


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=3000)


class ConversationRowIn(BaseModel):
    sent_at: str | None = None
    sender: str | None = None
    recipient: str | None = None
    text: str = Field(min_length=1)


@router.get("")
def list_reports(session: SessionDep, principal: ReportsScope, status: str | None = None) -> list[dict[str, Any]]:
    """Report cases, newest first."""
    return [summary(session, c) for c in cases.list_cases(session, _actor(principal), status)]


@router.get("/{case_id}")
def get_report(case_id: str, session: SessionDep, principal: ReportsScope) -> dict[str, Any]:
    """One case with every field, its submissions, files, receipt and the open report's deadline."""
    out = summary(session, cases.get_case(session, case_id, _actor(principal)))
    out["calls"] = calls(session, case_id)
    return out


@router.get("/{case_id}/xml")
def get_report_xml(case_id: str, session: SessionDep, principal: ReportsScope) -> Response:
    """The `<report>` XML as it would be sent now (validated against the schema)."""
    out = cases.render(session, case_id, _actor(principal), cybertip_settings())
    return Response(out["xml"], media_type="text/xml; charset=utf-8")


@router.patch("/{case_id}")
def edit_report(case_id: str, body: CaseChanges, session: SessionDep, principal: ReportsScope) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    case = cases.update_case(session, case_id, _actor(principal), changes)
    return summary(session, case)


@router.post("/{case_id}/escalate")
def escalate_report(case_id: str, body: Reason, session: SessionDep, principal: ReportsScope) -> dict[str, Any]:
    return summary(session, cases.escalate(session, case_id, _actor(principal), body.reason))


@router.put("/{case_id}/conversation")
def put_conversation(
    case_id: str, body: list[ConversationRowIn], session: SessionDep, principal: ReportsScope
) -> dict[str, Any]:
    rows = [m.model_dump() for m in body]
    return summary(session, cases.attach_conversation(session, case_id, _actor(principal), rows))


@router.post("/{case_id}/submit", status_code=202)
def submit_report(case_id: str, session: SessionDep, settings: SettingsDep, principal: ReportsScope) -> dict[str, Any]:
    """Queue the case; the worker submits it and the status shows progress and the receipt."""
    case = cases.queue_submission(session, settings, case_id, _actor(principal), cybertip_settings())
    return summary(session, case)


@router.post("/{case_id}/cancel")
def cancel_report(case_id: str, body: Reason, session: SessionDep, principal: ReportsScope) -> dict[str, Any]:
    return summary(session, cases.cancel(session, case_id, _actor(principal), body.reason))
