"""Tables of finance: the transactions screened (with their answer), the windowed aggregates
kept incrementally (buckets per account and per pair, pairs, corridors), the links Haven's own
detectors found between accounts, and the restrictions in force (frozen payouts, limited payees).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haven.core.clock import new_id, now
from haven.core.db import Base, UTCDateTime


class Transaction(Base):
    """One payment the service asked about, with Haven's answer (the stored answer is what a
    retry with the same `external_id` gets back)."""

    __tablename__ = "finance_transactions"
    __table_args__ = (
        UniqueConstraint("integration_id", "external_id", name="uq_finance_tx_external"),
        Index("ix_finance_tx_payer_time", "payer", "occurred_at"),
        Index("ix_finance_tx_payee_time", "payee", "occurred_at"),
        Index("ix_finance_tx_occurred", "occurred_at"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    integration_id: Mapped[str] = mapped_column(String(26))
    external_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    payer: Mapped[str] = mapped_column(String(200))
    payee: Mapped[str] = mapped_column(String(200))
    #: The amount as the service sent it (a decimal string), its currency, and the amount in
    #: minor units of the reference currency (what aggregates add).
    amount: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    amount_ref_minor: Mapped[int] = mapped_column(BigInteger)
    payer_country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    payee_country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    method: Mapped[str | None] = mapped_column(String(40), nullable=True)
    memo: Mapped[str | None] = mapped_column(Text, nullable=True)
    merchant_category: Mapped[str | None] = mapped_column(String(8), nullable=True)
    merchant: Mapped[str | None] = mapped_column(String(200), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    #: approve, review, hold, decline (Haven's answer) ...
    outcome: Mapped[str] = mapped_column(String(16))
    #: ... and where the payment stands now: approved, review, held, declined, released, kept.
    status: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(120))
    ruleset_version: Mapped[str] = mapped_column(String(40))
    indicators: Mapped[list[str]] = mapped_column(JSON, default=list)
    shadow: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: SHA-256 of the request (a retry with the same external_id and another body is 409).
    fingerprint: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class WindowBucket(Base):
    """Count and total of transactions in one time bucket: scope `o` (an account paying), `i` (an
    account paid) or `p` (a payer to a payee, `counterpart` the payee). Each window W is kept at
    a resolution of W/60 seconds; its aggregate is the sum of the last 60 buckets of that width."""

    __tablename__ = "finance_buckets"
    __table_args__ = (
        # The prune job's range (haven.finance.jobs): expired buckets of one width.
        Index("ix_finance_buckets_expiry", "width", "bucket"),
        # On SQLite the table is its primary key's B-tree (one tree per row written, not two,
        # and the window reads are covered by it). PostgreSQL keeps a heap and the key.
        {"sqlite_with_rowid": False},
    )

    scope: Mapped[str] = mapped_column(String(1), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    counterpart: Mapped[str] = mapped_column(String(200), primary_key=True)
    width: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)


class Pair(Base):
    """A payer and a payee: first and latest payment, and the run of rising amounts."""

    __tablename__ = "finance_pairs"
    __table_args__ = (
        Index("ix_finance_pairs_payer_last", "payer", "last_at"),
        Index("ix_finance_pairs_payee_last", "payee", "last_at"),
    )

    payer: Mapped[str] = mapped_column(String(200), primary_key=True)
    payee: Mapped[str] = mapped_column(String(200), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    last_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    rising: Mapped[int] = mapped_column(Integer, default=1)


class Corridor(Base):
    """A country pair an account has paid across (first seen, how often)."""

    __tablename__ = "finance_corridors"

    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    from_country: Mapped[str] = mapped_column(String(2), primary_key=True)
    to_country: Mapped[str] = mapped_column(String(2), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)


class DetectorLink(Base):
    """Something Haven's own detectors said about an account (`other` empty) or about two
    accounts together: a flagged grooming or sextortion conversation, a bank hit, a confirmed
    uploader of child sexual abuse material. Written by finance's subscribers from the events."""

    __tablename__ = "finance_links"

    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    other: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    ref: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class FinanceRestriction(Base):
    """A financial restriction in force on an account: `payouts_frozen` (a payee) or
    `new_payees_limited` (a minor who paid a suspected extorter)."""

    __tablename__ = "finance_restrictions"

    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), default="active")  # active, lifted
    transaction_id: Mapped[str] = mapped_column(String(26))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SarExport(Base):
    """An exported SAR/STR support package: who, when, and exactly what it held."""

    __tablename__ = "finance_sar_exports"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    subject: Mapped[str] = mapped_column(String(200))
    regime: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(120))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
