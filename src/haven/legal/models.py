"""Tables of law-enforcement requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haven.core.clock import new_id, now
from haven.core.db import Base, UTCDateTime
from haven.core.sealedcolumn import SealedText


class LegalRequest(Base):
    """A request from law enforcement: preservation, subpoena, court order, search warrant,
    emergency disclosure, or a foreign request, with its verification, targets and deadlines."""

    __tablename__ = "legal_requests"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    agency: Mapped[str] = mapped_column(String(255))
    # The officer's contact details are personal data: sealed at rest like reporters' (issue 16).
    requester_name: Mapped[str] = mapped_column(SealedText("legal_requests.requester_name"))
    requester_email: Mapped[str | None] = mapped_column(SealedText("legal_requests.requester_email"), nullable=True)
    requester_phone: Mapped[str | None] = mapped_column(SealedText("legal_requests.requester_phone"), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(120), nullable=True)
    country: Mapped[str] = mapped_column(String(2), default="US")
    targets: Mapped[list[str]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    #: open -> responded -> closed; or rejected (invalid process, failed verification).
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    #: unverified -> verified | failed: was the requester confirmed through an independent channel?
    verification: Mapped[str] = mapped_column(String(16), default="unverified")
    verification_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    verified_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    nondisclosure_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: undecided | notify | withhold | notified
    user_notice: Mapped[str] = mapped_column(String(16), default="undecided")
    user_notice_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    preservation_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
