"""Tables of terms: terms-of-service versions and the accounts' acceptances of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haven.core.clock import new_id, now
from haven.core.db import Base, UTCDateTime


class TermsVersion(Base):
    """One published version of the terms of service (Markdown), public at `/terms/{version}`."""

    __tablename__ = "terms_versions"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    markdown: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    published_by: Mapped[str] = mapped_column(String(80))


class TermsAcceptance(Base):
    """An account accepted a version of the terms at a time (as the service reports it)."""

    __tablename__ = "terms_acceptances"
    __table_args__ = (
        UniqueConstraint("account_id", "version", name="uq_terms_acceptances_account_version"),
        Index("ix_terms_acceptances_account", "account_id", "accepted_at"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(40))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    integration_id: Mapped[str] = mapped_column(String(26))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
