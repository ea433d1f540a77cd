"""Tables of cross-industry sharing: the exchanges Haven fetches from (with their checkpoint and
state), which upstream list feeds which bank, the provenance of every fetched entry, the feedback
queued back to the provider, and the partners Haven's own confirmed hashes are published to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haven.core.clock import new_id, now
from haven.core.db import Base, UTCDateTime


class Exchange(Base):
    """One configured source of hash lists (NCMEC, StopNCII, ThreatExchange, a Haven feed).

    Credentials are sealed (`haven.core.secretbox`, bound to this row's id) and never returned by
    the API, the CLI or the logs. `checkpoint` is the provider's cursor after the last page that
    was applied: it is written in the same transaction as that page's entries, so a crash between
    two pages resumes there and re-delivered entries change nothing."""

    __tablename__ = "exchanges"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    #: ncmec, stopncii, threatexchange, haven_feed (haven.exchange.connectors.KINDS)
    kind: Mapped[str] = mapped_column(String(40))
    base_url: Mapped[str] = mapped_column(Text)
    #: Non-secret settings of the connector: NCMEC member filters, a ThreatExchange privacy group,
    #: a Haven feed's pinned public key, the page size.
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    credentials_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: active: fetched entries match at once; quarantine: their matches go to review until a
    #: reviewer confirms one (the flood-quarantine path of the banks).
    trust_mode: Mapped[str] = mapped_column(String(16), default="active")
    fetch_interval_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    #: Overturned matches after which an entry is disabled here and reported back as disputed.
    dispute_threshold: Mapped[int] = mapped_column(Integer, default=3)
    checkpoint: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    entries_in: Mapped[int] = mapped_column(Integer, default=0)
    entries_out: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class ExchangeList(Base):
    """Which upstream list (NCMEC environment/member, StopNCII, a privacy group, a feed's list)
    feeds which bank. `list_name` "*" catches every list without a row of its own."""

    __tablename__ = "exchange_lists"
    __table_args__ = (UniqueConstraint("exchange_id", "list_name", name="uq_exchange_lists_name"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    exchange_id: Mapped[str] = mapped_column(ForeignKey("exchanges.id", ondelete="CASCADE"), index=True)
    list_name: Mapped[str] = mapped_column(String(200))
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"))
    classification: Mapped[str | None] = mapped_column(String(80), nullable=True)


class ExchangeEntry(Base):
    """The provenance of one fetched fingerprint: exchange, list, upstream id, contributor, when it
    was fetched, the upstream labels. Its bank entry (when the type can be matched here) is
    disabled, never deleted, when upstream deletes it, so the match log keeps its history."""

    __tablename__ = "exchange_entries"
    __table_args__ = (
        UniqueConstraint("exchange_id", "upstream_id", "signal_type", name="uq_exchange_entries_upstream"),
        Index("ix_exchange_entries_bank_entry", "bank_entry_id"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    exchange_id: Mapped[str] = mapped_column(ForeignKey("exchanges.id", ondelete="CASCADE"), index=True)
    list_name: Mapped[str] = mapped_column(String(200))
    upstream_id: Mapped[str] = mapped_column(String(200))
    #: Haven's signal type name (registry), or the upstream name of a type Haven cannot match
    #: (photodna, netclean, ...): those are stored and exported, never matched.
    signal_type: Mapped[str] = mapped_column(String(40))
    upstream_type: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(Text)
    bank_entry_id: Mapped[str | None] = mapped_column(ForeignKey("bank_entries.id", ondelete="SET NULL"), nullable=True)
    contributor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    classification: Mapped[str | None] = mapped_column(String(80), nullable=True)
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    unmatched_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
    overturned: Mapped[int] = mapped_column(Integer, default=0)
    disputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ExchangeFeedback(Base):
    """Feedback owed to a provider about one entry: one row per entry and sentiment, so a
    second confirmation of the same entry sends nothing twice."""

    __tablename__ = "exchange_feedback"
    __table_args__ = (UniqueConstraint("entry_id", "sentiment", name="uq_exchange_feedback_once"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    exchange_id: Mapped[str] = mapped_column(String(26), index=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("exchange_entries.id", ondelete="CASCADE"))
    #: confirm (a reviewer upheld a match), overturn (a reviewer found no violation), dispute
    #: (the entry reached the exchange's dispute threshold and was disabled here)
    sentiment: Mapped[str] = mapped_column(String(16))
    decision_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    #: queued, sent, unsupported (the provider has no feedback API for it), failed (gave up)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ExchangePartner(Base):
    """A partner Haven publishes its own confirmed hashes to (the Haven feed). Nothing is shared
    until `sharing_enabled` is set by a staff decision, which is audited; the partner reads the
    feed with the API key of `integration_id` (scope `exchanges:feed`)."""

    __tablename__ = "exchange_partners"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    integration_id: Mapped[str | None] = mapped_column(String(26), nullable=True, index=True)
    bank_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    sharing_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: How long a published entry stays valid at the partner (its `expires_at`).
    entry_ttl_days: Mapped[int] = mapped_column(Integer, default=90)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
