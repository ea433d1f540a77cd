"""Tables of policy: terms-of-service versions, their acceptances, and rule-set versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, UniqueConstraint
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
