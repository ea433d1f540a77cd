"""Tables of user reports (DSA Art 16 notices): cases per target, reports, reporters' standing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haven.core.clock import new_id, now
from haven.core.db import Base, UTCDateTime
from haven.core.sealedcolumn import SealedText


class NoticeCase(Base):
    """All open reports on one target, merged: reviewed once, decided once."""

    __tablename__ = "notice_cases"
    __table_args__ = (Index("ix_notice_cases_target", "target_type", "target_id", "status"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    target_type: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(String(200))
    location_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: open, closed
    status: Mapped[str] = mapped_column(String(16), default="open")
    #: 0 imminent risk, 1 child safety, 2 trusted flagger, 3 other: lower is sooner.
    priority: Mapped[int] = mapped_column(Integer, default=3, index=True)
    category: Mapped[str] = mapped_column(String(40))
    reports_count: Mapped[int] = mapped_column(Integer, default=0)
    trusted_reports: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: violation, no_violation, invalidated
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    decision_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class UserReport(Base):
    """One notice. The reporter is optional (anonymous reports of child sexual abuse)."""

    __tablename__ = "user_reports"
    __table_args__ = (Index("ix_user_reports_reporter", "reporter_id", "status"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(String(26), index=True)
    integration_id: Mapped[str] = mapped_column(String(26))
    reporter_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: The reporter's contact details are sealed at rest (haven.core.sealedcolumn).
    reporter_name: Mapped[str | None] = mapped_column(SealedText("user_reports.reporter_name"), nullable=True)
    reporter_email: Mapped[str | None] = mapped_column(SealedText("user_reports.reporter_email"), nullable=True)
    trusted_flagger: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[str] = mapped_column(String(40))
    explanation: Mapped[str] = mapped_column(Text)
    location_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    good_faith: Mapped[bool] = mapped_column(Boolean)
    imminent_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    notify_outcome: Mapped[bool] = mapped_column(Boolean, default=False)
    #: pending, resolved, invalidated
    status: Mapped[str] = mapped_column(String(16), default="pending")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ReporterStanding(Base):
    """Manifestly unfounded reports (DSA Art 23): a warning first, then a reporting suspension."""

    __tablename__ = "reporter_standing"

    reporter_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    unfounded_count: Mapped[int] = mapped_column(Integer, default=0)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
