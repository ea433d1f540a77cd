"""Tables of the evidence vault: encrypted objects with their custody facts, and legal holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haven.core.clock import new_id, now
from haven.core.db import Base, UTCDateTime


class EvidenceObject(Base):
    """One preserved object (a reported file, a conversation CSV, a report's XML or receipt).

    The bytes are on disk, sealed with AES-256-GCM under a data key of their own; the data key
    is stored here wrapped by the key provider. Destroying an object deletes the file and the
    wrapped key (so even a backup copy of the file can no longer be opened).
    """

    __tablename__ = "evidence_objects"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    case_id: Mapped[str | None] = mapped_column(String(26), nullable=True, index=True)
    content_id: Mapped[str | None] = mapped_column(String(26), nullable=True, index=True)
    account_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(120), nullable=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)
    key_provider: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(120))
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    #: Set when the case's report is finished: finished_at + the retention period.
    retain_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    destroyed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    destruction_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class LegalHold(Base):
    """A hold that blocks deletion of a case's objects, one object, or an account's objects."""

    __tablename__ = "evidence_holds"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    case_id: Mapped[str | None] = mapped_column(String(26), nullable=True, index=True)
    object_id: Mapped[str | None] = mapped_column(String(26), nullable=True, index=True)
    account_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    reason: Mapped[str] = mapped_column(Text)
    legal_request_id: Mapped[str | None] = mapped_column(String(26), nullable=True, index=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    released_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
