"""Tables of reporting: report cases, their submissions to the CyberTipline, their files, and
every request and response exchanged with the API (kept with its Request-ID)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from haven.core.clock import new_id, now
from haven.core.db import Base, UTCDateTime


class ReportCase(Base):
    """One incident to report: what review confirmed plus what legal staff add.

    Status: draft (editable) -> queued (legal asked to submit) -> submitting (the worker runs
    the API sequence) -> finished; or failed (4xxx, shown to staff), credential_alert (2xxx/3xxx,
    paused until credentials are fixed), cancelled (withdrawn before finishing).
    """

    __tablename__ = "report_cases"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    environment: Mapped[str | None] = mapped_column(String(12), nullable=True)
    category: Mapped[str] = mapped_column(String(40))
    incident_type: Mapped[str] = mapped_column(String(120))
    incident_at: Mapped[datetime] = mapped_column(UTCDateTime)
    incident_description: Mapped[str | None] = mapped_column(Text, nullable=True)
    escalation_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    annotations: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(200))
    decision_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    #: The reported account: {"esp_identifier", "screen_name", "display_names", "emails",
    #: "profile_urls", "ip_events": [{"ip", "event", "at"}], "disabled_at", ...}.
    reported_account: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recipients: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    victims: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    content_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: content id -> A1/A2/B1/B2 (from review; absent when not on the scale).
    classifications: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: content id -> fileAnnotations flags.
    file_annotations: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    #: Conversation rows for text-only cases: [{"sent_at", "sender", "recipient", "text"}].
    conversation: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    prior_reports: Mapped[list[int]] = mapped_column(JSON, default=list)
    additional_info: Mapped[str | None] = mapped_column(Text, nullable=True)
    first_knowledge_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    submitted_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ncmec_report_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: One worker at a time runs a case's requests (two would take each other's in-flight
    #: steps for crashed ones); a dead worker's lease runs out.
    lease_owner: Mapped[str | None] = mapped_column(String(26), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Submission(Base):
    """One opened CyberTipline report (`/submit`) for a case. A case may need several (a lost
    `/submit` response, a missed deadline, an uncertain upload), but at most one is ever
    finished: the partial unique index enforces it in the database."""

    __tablename__ = "report_submissions"
    __table_args__ = (
        UniqueConstraint("case_id", "seq"),
        Index(
            "uq_report_submissions_one_finished",
            "case_id",
            unique=True,
            sqlite_where=text("state = 'finished'"),
            postgresql_where=text("state = 'finished'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("report_cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    environment: Mapped[str] = mapped_column(String(12))
    #: submitting (request may be in flight) -> open -> finishing -> finished; or lost (the
    #: /submit response never came: the report, if any, expires unfinished), retracting ->
    #: retracted, expired (the 24 h / 1 h window passed), failed.
    state: Mapped[str] = mapped_column(String(16), default="submitting")
    ncmec_report_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    xml: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    receipt: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class ReportFile(Base):
    """A file of a case (a confirmed item, or the conversation CSV) and its progress within
    the current submission."""

    __tablename__ = "report_files"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("report_cases.id"), index=True)
    content_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # media | conversation
    position: Mapped[int] = mapped_column(Integer, default=0)
    file_name: Mapped[str] = mapped_column(String(255))
    evidence_object_id: Mapped[str] = mapped_column(String(26))
    md5: Mapped[str] = mapped_column(String(32))
    submission_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    #: pending -> uploading (request may be in flight) -> uploaded -> detailing -> done
    stage: Mapped[str] = mapped_column(String(16), default="pending")
    ncmec_file_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details_xml: Mapped[str | None] = mapped_column(Text, nullable=True)
    viewed_by_esp: Mapped[bool] = mapped_column(Boolean, default=False)
    exif_viewed_by_esp: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The audit records that made viewed_by_esp true: [{"actor", "at", "audit_id"}].
    views: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class TiplineCall(Base):
    """One request to the CyberTipline API and its response, kept for support and evidence.
    Upload bodies are summarised (name, size, MD5), never stored here."""

    __tablename__ = "cybertip_calls"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    case_id: Mapped[str | None] = mapped_column(String(26), nullable=True, index=True)
    submission_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    environment: Mapped[str] = mapped_column(String(12))
    endpoint: Mapped[str] = mapped_column(String(20))
    request_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    response_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
