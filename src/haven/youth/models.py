"""Tables of youth: age signals (results only: never a document, image or birth date), the
assured age derived from them, the social graph the service tells Haven, re-assurance requests,
guardian links, their approval requests, approved loosenings and activity metadata.

Retention (docs/youth.md): signals are kept `assurance.retention_days` after they stop counting;
staff may purge an account's age data at any time (`age.purged`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from haven.core.clock import now
from haven.core.db import Base, UTCDateTime


class AgeSignal(Base):
    """One age-assurance result for an account (what a provider or Haven concluded)."""

    __tablename__ = "youth_age_signals"
    __table_args__ = (Index("ix_youth_age_signals_account", "account_id", "observed_at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(32))
    provider: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    min_age: Mapped[int] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    age_band: Mapped[str] = mapped_column(String(16))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    evidence_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    actor: Mapped[str] = mapped_column(String(200))


class AssuredAge(Base):
    """An account's assured age, derived from its signals (or set by a staff override)."""

    __tablename__ = "youth_assured_ages"

    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    age_band: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    method: Mapped[str | None] = mapped_column(String(32), nullable=True)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    why: Mapped[list[str]] = mapped_column(JSON, default=list)
    override_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    override_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class Connection(Base):
    """`other` is among `account`'s connections on the service (follow, friend, accepted request)."""

    __tablename__ = "youth_connections"

    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    other_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), default="connection")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class ReassuranceRequest(Base):
    """A request to the service to re-check an account's age, with the reason the console shows."""

    __tablename__ = "youth_reassurance"
    __table_args__ = (Index("ix_youth_reassurance_account", "account_id", "status"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200))
    reason_code: Mapped[str] = mapped_column(String(48))
    reason: Mapped[str] = mapped_column(String(500))
    required_level: Mapped[str | None] = mapped_column(String(16), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Guardianship(Base):
    """A guardian's link to a teen: pending until the teen confirms with the code, revocable."""

    __tablename__ = "youth_guardianships"
    __table_args__ = (Index("ix_youth_guardianships_teen", "teen_id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    guardian_id: Mapped[str] = mapped_column(String(200))
    teen_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, active, revoked
    code_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class GuardianApproval(Base):
    """A request for a guardian's approval: a purchase above the cap, or loosening a default."""

    __tablename__ = "youth_approvals"
    __table_args__ = (Index("ix_youth_approvals_guardianship", "guardianship_id", "status"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    guardianship_id: Mapped[str] = mapped_column(String(26))
    kind: Mapped[str] = mapped_column(String(24))  # purchase, loosen_default
    setting: Mapped[str | None] = mapped_column(String(48), nullable=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    amount: Mapped[int | None] = mapped_column(Integer, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, approved, declined
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ProtectionOverride(Base):
    """A loosened default in force for an account (approved by a guardian, or the teen's own
    choice where no approval is needed)."""

    __tablename__ = "youth_overrides"

    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    setting: Mapped[str] = mapped_column(String(48), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    approval_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class Activity(Base):
    """Metadata the service tells of a teen's use (time spent, groups joined, purchases, reports
    filed): what a guardian may see. Never message text or media."""

    __tablename__ = "youth_activity"
    __table_args__ = (Index("ix_youth_activity_account", "account_id", "at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int | None] = mapped_column(Integer, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
