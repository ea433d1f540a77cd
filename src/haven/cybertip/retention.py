"""When the vault destroys a case's material, the copies in reporting's own tables go too.

The report's XML, each file's details, the calls' bodies, the conversation rows and the
people in a case are personal data kept for the same purpose as the vault's objects. When the
last object of a case is purged (retention ended) or destroyed (law enforcement asked), they are
scrubbed; what stays is the bare record needed for statistics: ids, category, status, dates and
NCMEC's report id.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.core.clock import now
from haven.core.ledger import record_event, subscribe
from haven.core.models import Event
from haven.cybertip.models import ReportCase, ReportFile, Submission, TiplineCall
from haven.evidence.models import EvidenceObject

SCRUBBED = "[scrubbed: retention ended or destroyed on request]"


@subscribe("evidence.purged", "evidence.destroyed", name="report-retention")
def on_evidence_gone(session: Session, event: Event) -> None:
    obj = session.get(EvidenceObject, event.subject_id)
    if obj is None or obj.case_id is None:
        return
    case = session.get(ReportCase, obj.case_id)
    if case is None:
        return
    if obj.kind == "conversation" and case.conversation:
        case.conversation = []
    remaining = session.scalar(
        select(EvidenceObject.id)
        .where(EvidenceObject.case_id == case.id, EvidenceObject.destroyed_at.is_(None))
        .limit(1)
    )
    if remaining is None:
        scrub(session, case)


def scrub(session: Session, case: ReportCase) -> None:
    """Remove the personal data of a case from reporting's tables (idempotent)."""
    if case.incident_description == SCRUBBED:
        return
    case.reported_account = {}
    case.recipients = []
    case.victims = []
    case.conversation = []
    case.incident_description = SCRUBBED
    case.escalation_reason = SCRUBBED if case.escalation_reason else None
    case.additional_info = None
    case.updated_at = now()
    for sub in session.scalars(select(Submission).where(Submission.case_id == case.id)):
        sub.xml = SCRUBBED
    for f in session.scalars(select(ReportFile).where(ReportFile.case_id == case.id)):
        f.details_xml = None
        f.views = []
    for e in session.scalars(select(TiplineCall).where(TiplineCall.case_id == case.id)):
        e.request_body = None
        e.response_body = None if e.endpoint != "finish" else e.response_body  # the receipt holds only ids
    record_event(session, "report.scrubbed", subject_type="report_case", subject_id=case.id, actor="system:haven")
