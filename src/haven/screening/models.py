"""Tables of screening: content records, the encrypted quarantine
of blocked or held media, and the video signals of video content."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haven.core.clock import new_id, now
from haven.core.db import Base, UTCDateTime


class ContentItem(Base):
    """One piece of content submitted by a service, with its signals and verdict.

    The bytes of allowed content are never stored; blocked or held content has a quarantine
    object (encrypted) so a reviewer can see it.
    """

    __tablename__ = "content_items"
    __table_args__ = (
        Index("ix_content_uploader", "uploader", "received_at"),
        Index("ix_content_external", "integration_id", "external_id"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    integration_id: Mapped[str] = mapped_column(String(26))
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    media_kind: Mapped[str] = mapped_column(String(16))  # image, video, text, file
    content_type: Mapped[str | None] = mapped_column(String(120), nullable=True)
    uploader: Mapped[str | None] = mapped_column(String(200), nullable=True)
    surface: Mapped[str | None] = mapped_column(String(40), nullable=True)
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    md5: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    sha1: Mapped[str | None] = mapped_column(String(40), nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    pdq: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pdq_quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    verdict: Mapped[str] = mapped_column(String(16))
    verdict_rule: Mapped[str] = mapped_column(String(120))
    verdict_reason: Mapped[str] = mapped_column(Text, default="")
    #: Classifier scores: {classifier name: {"version": ..., "scores": {label: score}}}.
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    quarantine_id: Mapped[str | None] = mapped_column(String(26), nullable=True)


class QuarantineObject(Base):
    """Encrypted bytes of blocked or held media (AES-256-GCM), kept for review and evidence."""

    __tablename__ = "quarantine_objects"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    content_id: Mapped[str] = mapped_column(String(26), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(120), nullable=True)
    path: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(64), default="settings")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class VideoSignal(Base):
    """vPDQ and analysis state of one video content item (analysed inline or by the worker)."""

    __tablename__ = "video_signals"

    content_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, done, failed
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    frame_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: [[frame, timestamp, quality, pdq hex], ...]: Meta's vPDQ features, one per second.
    vpdq: Mapped[list[Any]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    analysed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PolicyRuleset(Base):
    """A version of the policy rules: the YAML as written plus the shadow rules promoted since.

    Promotion adds a row (same source, one more promoted rule) so that every verdict can be
    traced to the exact rules that produced it.
    """

    __tablename__ = "policy_rulesets"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    revision: Mapped[int] = mapped_column(Integer, unique=True)
    version: Mapped[str] = mapped_column(String(40))
    terms_version: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(Text)
    promoted: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    created_by: Mapped[str] = mapped_column(String(80))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
