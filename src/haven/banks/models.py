"""Tables of hash banks, their entries, and the match log (every hit of an entry, for flood
protection, review and retroaction)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haven.core.clock import new_id, now
from haven.core.db import Base, UTCDateTime


class BankKind(StrEnum):
    known_csam = "known_csam"
    known_exploitation = "known_exploitation"
    ncii = "ncii"
    local_confirmed = "local_confirmed"
    allowlist = "allowlist"


class Provenance(StrEnum):
    manual = "manual"
    file_import = "file_import"
    exchange = "exchange"


#: Industry classification scale (A1/A2/B1/B2) plus the explicit "not on the scale".
CLASSIFICATIONS = ("A1", "A2", "B1", "B2")


class Bank(Base):
    __tablename__ = "banks"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(40))
    default_classification: Mapped[str | None] = mapped_column(String(80), nullable=True)
    pdq_threshold: Mapped[int] = mapped_column(Integer, default=31)
    #: Which PDQ variants are banked with entries Haven hashes from media itself: off, standard
    #: or strong (haven.signals.robust.Robustness; measured in docs/signals.md).
    robustness: Mapped[str] = mapped_column(String(16), default="strong", server_default="strong")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    provenance: Mapped[str] = mapped_column(String(40), default=Provenance.manual.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class BankEntry(Base):
    """One hash in a bank. Disabling keeps the row (and its history of matches)."""

    __tablename__ = "bank_entries"
    __table_args__ = (Index("ix_bank_entries_signal", "signal_type", "value"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"), index=True)
    #: A name in `haven.signals.types.REGISTRY` whose type is bankable.
    signal_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(128))
    classification: Mapped[str | None] = mapped_column(String(80), nullable=True)
    source_ref: Mapped[str | None] = mapped_column(String(400), nullable=True)
    added_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Set by flood protection: matches of a quarantined entry go to review instead of blocking.
    quarantined_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    quarantine_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: For robustness variants Haven banks itself (centre crops): the entry they derive from.
    variant_of: Mapped[str | None] = mapped_column(String(26), nullable=True, index=True)
    variant: Mapped[str | None] = mapped_column(String(40), nullable=True)
    quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: The banks' change counter at this entry's last change: API processes apply changes
    #: with a greater number to their match index instead of rebuilding it.
    change_seq: Mapped[int] = mapped_column(Integer, default=0, index=True)


class DeletedEntry(Base):
    """A tombstone for entries removed with their bank, so API processes drop them too."""

    __tablename__ = "deleted_bank_entries"

    entry_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    change_seq: Mapped[int] = mapped_column(Integer, index=True)


class Match(Base):
    """A match of a content item (or of a looked-up hash) against a bank entry: the match log."""

    __tablename__ = "matches"
    __table_args__ = (Index("ix_matches_entry_time", "entry_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    content_id: Mapped[str | None] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), nullable=True, index=True
    )
    integration_id: Mapped[str] = mapped_column(String(26))
    source: Mapped[str] = mapped_column(String(16), default="content")  # content or lookup
    bank_id: Mapped[str] = mapped_column(String(26), index=True)
    entry_id: Mapped[str] = mapped_column(String(26))
    signal_type: Mapped[str] = mapped_column(String(16))
    distance: Mapped[int] = mapped_column(Integer, default=0)
    classification: Mapped[str | None] = mapped_column(String(80), nullable=True)
    #: allowlisted: suppressed by an allowlist bank; quarantined: the entry was under flood review.
    status: Mapped[str] = mapped_column(String(16), default="active")
    query_variant: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
