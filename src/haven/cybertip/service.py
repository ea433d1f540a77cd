"""Operations on report cases shared by the CLI and the API: summaries, connectivity, schema refresh."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.core.clock import now
from haven.core.errors import HavenError, Invalid
from haven.cybertip.client import CybertipClient, TransportError
from haven.cybertip.config import CybertipSettings
from haven.cybertip.machine import deadline
from haven.cybertip.models import ReportCase, ReportFile, Submission, TiplineCall


def summary(session: Session, case: ReportCase) -> dict[str, Any]:
    """What staff see of a case: status, receipt, errors, files and the open report's deadline."""
    subs = list(session.scalars(select(Submission).where(Submission.case_id == case.id).order_by(Submission.seq)))
    current = subs[-1] if subs else None
    due = deadline(current) if current is not None and current.state in ("open", "finishing") else None
    files = session.scalars(select(ReportFile).where(ReportFile.case_id == case.id).order_by(ReportFile.position))
    return {
        "id": case.id,
        "status": case.status,
        "environment": case.environment,
        "category": case.category,
        "incident_type": case.incident_type,
        "incident_at": case.incident_at.isoformat(),
        "escalation_reason": case.escalation_reason,
        "annotations": case.annotations,
        "reported_account": case.reported_account,
        "recipients": case.recipients,
        "victims": case.victims,
        "content_ids": case.content_ids,
        "classifications": case.classifications,
        "conversation_rows": len(case.conversation or []),
        "ncmec_report_id": case.ncmec_report_id,
        "finished_at": case.finished_at.isoformat() if case.finished_at else None,
        "error": {"code": case.error_code, "message": case.error_message} if case.error_message else None,
        "first_knowledge_at": case.first_knowledge_at.isoformat(),
        "age_seconds": int((now() - case.first_knowledge_at).total_seconds()),
        "open_report_deadline": due.isoformat() if due else None,
        "receipt": current.receipt if current is not None and current.state == "finished" else None,
        "submissions": [
            {"seq": s.seq, "state": s.state, "ncmec_report_id": s.ncmec_report_id, "environment": s.environment}
            for s in subs
        ],
        "files": [
            {
                "kind": f.kind,
                "content_id": f.content_id,
                "file_name": f.file_name,
                "stage": f.stage,
                "ncmec_file_id": f.ncmec_file_id,
                "viewed_by_esp": f.viewed_by_esp,
                "views": f.views,
            }
            for f in files
        ],
    }


def calls(session: Session, case_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(TiplineCall).where(TiplineCall.case_id == case_id).order_by(TiplineCall.created_at))
    return [
        {
            "at": e.created_at.isoformat(),
            "environment": e.environment,
            "endpoint": e.endpoint,
            "http_status": e.http_status,
            "response_code": e.response_code,
            "request_id": e.request_id,
            "error": e.error,
        }
        for e in rows
    ]


def check_status(cfg: CybertipSettings) -> dict[str, Any]:
    """`GET /status`: connectivity and authentication."""
    if not cfg.configured:
        raise Invalid("set HAVEN_CYBERTIP_USERNAME and HAVEN_CYBERTIP_PASSWORD", code="cybertip_not_configured")
    try:
        with CybertipClient(cfg) as c:
            r = c.status()
    except TransportError as exc:
        raise HavenError(str(exc), code="cybertip_unreachable", status_code=502) from exc
    return {
        "environment": cfg.environment,
        "url": cfg.base_url,
        "http_status": r.http_status,
        "code": r.code,
        "description": r.response.description if r.response else None,
        "request_id": r.request_id,
    }


def refresh_xsd(cfg: CybertipSettings, var_dir: Path) -> Path:
    """Fetch the authoritative schema from `GET /xsd` into var/; validation then uses it."""
    if not cfg.configured:
        raise Invalid("fetching the schema needs CyberTipline credentials", code="cybertip_not_configured")
    try:
        with CybertipClient(cfg) as c:
            r = c.xsd()
    except TransportError as exc:
        raise HavenError(str(exc), code="cybertip_unreachable", status_code=502) from exc
    if r.http_status != 200:
        raise HavenError(
            f"GET /xsd answered HTTP {r.http_status} (Request-ID {r.request_id})",
            code="xsd_fetch_failed",
            status_code=502,
        )
    try:
        etree.XMLSchema(etree.fromstring(r.body))
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise HavenError(
            f"GET /xsd did not return a usable schema: {exc}", code="xsd_invalid", status_code=502
        ) from exc
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "cybertipline.xsd"
    path.write_bytes(r.body)
    return path
