"""What a retention sweep or an erasure must not touch: legal holds, preserved reports, open
report cases and open law-enforcement requests always win over a retention period or a request.

The sets are small (holds and cases, not uploads), so they are read once per sweep.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from haven.core.clock import now
from haven.cybertip.models import ReportCase
from haven.enforce.models import NoticeHold
from haven.evidence.models import EvidenceObject, LegalHold
from haven.legal.models import LegalRequest

CLOSED_LEGAL = ("closed", "rejected")


@dataclass
class Protected:
    """Accounts and content that must be kept, each with why (for an erasure's answer)."""

    accounts: dict[str, set[str]] = field(default_factory=dict)
    content: dict[str, set[str]] = field(default_factory=dict)

    def keep_account(self, account_id: str, why: str) -> None:
        self.accounts.setdefault(account_id, set()).add(why)

    def keep_content(self, content_id: str, why: str) -> None:
        self.content.setdefault(content_id, set()).add(why)


def protected(session: Session) -> Protected:
    t = now()
    out = Protected()
    holds = session.scalars(
        select(LegalHold).where(
            LegalHold.released_at.is_(None), or_(LegalHold.expires_at.is_(None), LegalHold.expires_at > t)
        )
    )
    held_cases: set[str] = set()
    for h in holds:
        if h.account_id:
            out.keep_account(h.account_id, "legal_hold")
        if h.case_id:
            held_cases.add(h.case_id)
        if h.object_id:
            obj = session.get(EvidenceObject, h.object_id)
            if obj is not None and obj.content_id:
                out.keep_content(obj.content_id, "legal_hold")
    for account_id in session.scalars(
        select(NoticeHold.account_id).where(
            NoticeHold.released_at.is_(None), or_(NoticeHold.until.is_(None), NoticeHold.until > t)
        )
    ):
        out.keep_account(account_id, "legal_hold")
    for targets in session.scalars(select(LegalRequest.targets).where(LegalRequest.status.not_in(CLOSED_LEGAL))):
        for target in targets or []:
            out.keep_account(str(target), "open_law_enforcement_request")
    for obj in session.scalars(select(EvidenceObject).where(EvidenceObject.destroyed_at.is_(None))):
        why = "legal_hold" if obj.case_id in held_cases else "preserved_report"
        if obj.account_id:
            out.keep_account(obj.account_id, why)
        if obj.content_id:
            out.keep_content(obj.content_id, why)
    for case in session.scalars(select(ReportCase).where(ReportCase.finished_at.is_(None))):
        why = "legal_hold" if case.id in held_cases else "open_report_case"
        if case.subject_type == "account":
            out.keep_account(case.subject_id, why)
        account = (case.reported_account or {}).get("id") if isinstance(case.reported_account, dict) else None
        if account:
            out.keep_account(str(account), why)
        for cid in case.content_ids or []:
            out.keep_content(str(cid), why)
    return out
