"""HTTP routes of user reports: `POST /v1/reports` (DSA Art 16 notices) and reporters' standing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, HttpUrl
from sqlalchemy import select

from haven.core.auth import Principal
from haven.core.web import require_scope
from haven.enforce.notices import service
from haven.enforce.notices.models import NoticeCase

router = APIRouter(prefix="/v1", tags=["reports"])
Intake = Annotated[Principal, Depends(require_scope("intake"))]
Admin = Annotated[Principal, Depends(require_scope("admin"))]


class Reporter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, max_length=200, description="the service's account id of the reporter")
    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["content", "account"]
    id: str = Field(min_length=1, max_length=200, description="Haven's content id or the service's account id")
    location_url: HttpUrl | None = Field(None, description="the exact electronic location (Art 16(2)(b))")


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reporter: Reporter | None = Field(None, description="optional only for child-safety categories")
    target: Target
    category: str = Field(min_length=1, max_length=40, description="a policy category id, e.g. csam, grooming")
    explanation: str = Field(
        min_length=1, max_length=5000, description="why the content is illegal or breaks the terms"
    )
    good_faith: bool = Field(description="the reporter's statement that the report is accurate and made in good faith")
    imminent_risk: bool = Field(False, description="a child is at imminent risk")
    notify_outcome: bool = Field(False, description="tell the reporter what was decided")


class ReceiptOut(BaseModel):
    report_id: str
    case_id: str
    received_at: datetime
    merged: bool
    priority: int
    trusted_flagger: bool
    message: str


class CaseOut(BaseModel):
    id: str
    target_type: str
    target_id: str
    status: str
    priority: int
    category: str
    reports_count: int
    trusted_reports: int
    opened_at: datetime
    outcome: str | None


class UnfoundedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class UnfoundedOut(BaseModel):
    reporter_id: str
    action: Literal["warned", "suspended"]
    invalidated: list[str]
    suspended_until: datetime | None


@router.post("/reports", response_model=ReceiptOut, status_code=201)
def submit_report(body: ReportIn, request: Request, principal: Intake) -> ReceiptOut:
    """Receive a notice; the answer is the acknowledgement of receipt (Art 16(4))."""
    with request.app.state.db.session() as session:
        r = body.reporter or Reporter()
        report, case, merged = service.file_report(
            session,
            integration_id=principal.integration_id,
            actor=principal.actor,
            reporter_id=r.id,
            reporter_name=r.name,
            reporter_email=r.email,
            target_type=body.target.type,
            target_id=body.target.id,
            location_url=str(body.target.location_url) if body.target.location_url else None,
            category=body.category,
            explanation=body.explanation,
            good_faith=body.good_faith,
            imminent_risk=body.imminent_risk,
            notify_outcome=body.notify_outcome,
        )
        return ReceiptOut(
            report_id=report.id,
            case_id=case.id,
            received_at=report.received_at,
            merged=merged,
            priority=case.priority,
            trusted_flagger=report.trusted_flagger,
            message="Your report was received." + (" We will tell you what we decide." if body.notify_outcome else ""),
        )


@router.get("/report-cases", response_model=list[CaseOut])
def list_cases(request: Request, _: Admin, status: str = "open", limit: int = 100) -> list[CaseOut]:
    """Cases in queue order: priority first, then oldest."""
    with request.app.state.db.session() as session:
        rows = session.scalars(
            select(NoticeCase)
            .where(NoticeCase.status == status)
            .order_by(NoticeCase.priority, NoticeCase.opened_at)
            .limit(min(limit, 1000))
        )
        return [CaseOut.model_validate(r, from_attributes=True) for r in rows]


@router.post("/reporters/{reporter_id}/unfounded", response_model=UnfoundedOut)
def reporter_unfounded(reporter_id: str, body: UnfoundedIn, request: Request, principal: Admin) -> UnfoundedOut:
    """Mark a reporter's reports manifestly unfounded (Art 23): pending reports are invalidated;
    a warning the first time, a reporting suspension after it."""
    with request.app.state.db.session() as session:
        out = service.mark_unfounded(session, reporter_id, actor=principal.actor, reason=body.reason)
        return UnfoundedOut.model_validate(out)
