"""Tables of enforcement: the webhook outbox, decisions and their actions, strikes, statements of
reasons, notice holds and appeals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haven.core.clock import new_id, now
from haven.core.db import Base, UTCDateTime


class WebhookEndpoint(Base):
    """Where actions are delivered. One enabled row; the secret is never returned or logged."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    #: After a rotation, the replaced secret (sealed like `secret`) keeps signing until `previous_until`.
    previous_secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    previous_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    created_by: Mapped[str] = mapped_column(String(80))


class Delivery(Base):
    """One action for the service: an outbox row, worked by an `enforce.deliver` job until the
    service answers 2xx, or dead-lettered after the last attempt (replayable)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_status", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    action_type: Mapped[str] = mapped_column(String(40), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(200))
    decision_id: Mapped[str | None] = mapped_column(String(26), nullable=True, index=True)
    #: pending, delivered, dead
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=12)
    replays: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EnforcementDecision(Base):
    """A decision on a violation (by a person, or by a rule for known material), with everything a
    statement of reasons and the Transparency Database need. Decisions that a reported target
    does *not* violate are kept too (outcome no_violation), so that notifiers can appeal them."""

    __tablename__ = "enforcement_decisions"
    __table_args__ = (Index("ix_enforcement_decisions_account", "account_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    #: review (a human decision), policy (a rule on a known-material match), appeal
    source: Mapped[str] = mapped_column(String(16))
    #: The review decision id or the verdict event id: a redelivered event is applied once.
    source_ref: Mapped[str] = mapped_column(String(64), unique=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    category: Mapped[str] = mapped_column(String(40))
    #: violation, or no_violation (a notice that was not acted on)
    outcome: Mapped[str] = mapped_column(String(16), default="violation")
    content_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    automated_detection: Mapped[bool] = mapped_column(Boolean, default=False)
    #: AUTOMATED_DECISION_FULLY, _PARTIALLY or _NOT_AUTOMATED
    automated_decision: Mapped[str] = mapped_column(String(40))
    #: SOURCE_ARTICLE_16, SOURCE_TRUSTED_FLAGGER, SOURCE_TYPE_OTHER_NOTIFICATION, SOURCE_VOLUNTARY
    source_type: Mapped[str] = mapped_column(String(40))
    notice_case_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    deciders: Mapped[list[str]] = mapped_column(JSON, default=list)
    rule: Mapped[str | None] = mapped_column(String(120), nullable=True)
    ladder: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    overturned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    overturned_by: Mapped[str | None] = mapped_column(String(80), nullable=True)


class DecisionAlias(Base):
    """Another reference to a decision: a human decision that confirmed an automated one on the
    same content (so that overturning either reference finds the decision)."""

    __tablename__ = "enforcement_decision_aliases"

    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    decision_id: Mapped[str] = mapped_column(String(26), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class EnforcementAction(Base):
    """One action a decision took (removal, restriction, suspension, termination): what an upheld
    appeal reverses."""

    __tablename__ = "enforcement_actions"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    decision_id: Mapped[str] = mapped_column(String(26), index=True)
    action_type: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(200), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Strike(Base):
    """A strike against an account: points that count towards the ladder until they expire or
    their decision is overturned (then `removed_at` is set; rows are never deleted)."""

    __tablename__ = "account_strikes"
    __table_args__ = (Index("ix_account_strikes_account", "account_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(String(200))
    decision_id: Mapped[str] = mapped_column(String(26), index=True)
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(40))
    points: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    removed_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)


class StatementOfReasons(Base):
    """A statement of reasons (DSA Art 17): the machine-readable fields (in Transparency Database
    form, without personal data), the rendered notice, and where it is in delivery and submission."""

    __tablename__ = "statements_of_reasons"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    decision_id: Mapped[str] = mapped_column(String(26), index=True)
    account_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    #: The platform's unique identifier of the statement in the Transparency Database: made once,
    #: never reused (unique here; a resubmission of the same statement keeps it).
    puid: Mapped[str] = mapped_column(String(100), unique=True)
    locale: Mapped[str] = mapped_column(String(16), default="en")
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    subject: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    #: pending, held (law-enforcement delay), delivered, not_deliverable (no known account)
    notice_status: Mapped[str] = mapped_column(String(20), default="pending")
    hold_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    delivery_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    #: pending, submitted, rejected
    tdb_status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    tdb_uuid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tdb_error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    tdb_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class NoticeHold(Base):
    """A law-enforcement request to delay telling an account (ongoing investigation)."""

    __tablename__ = "notice_holds"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    reference: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    released_by: Mapped[str | None] = mapped_column(String(80), nullable=True)


class Appeal(Base):
    """An internal complaint (DSA Art 20) against one decision; one per decision."""

    __tablename__ = "appeals"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    decision_id: Mapped[str] = mapped_column(String(26), unique=True)
    appellant: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    #: pending, upheld (the decision is reversed), rejected (the decision stands)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    original_deciders: Mapped[list[str]] = mapped_column(JSON, default=list)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
