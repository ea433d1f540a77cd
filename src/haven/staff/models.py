"""Tables of staff: accounts, console sessions, recovery codes, training records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haven.core.clock import new_id, now
from haven.core.db import Base, UTCDateTime


class StaffMember(Base):
    """A person who works in the console. Roles are from `haven.core.actors.ROLES`."""

    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: argon2id hash; null until the person has used their set-up link.
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The TOTP secret sealed with AES-256-GCM under the TOTP key (`haven.staff.secrets`);
    #: `totp_enabled_at` is set once the first code was verified.
    totp_secret: Mapped[str | None] = mapped_column(String(255), nullable=True)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The last TOTP time-step accepted, so a code cannot be replayed within its window.
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    setup_token_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    setup_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Failed sign-ins since the last completed one (informational: the lockout itself is per
    #: e-mail and source address, in `SignInThrottle`).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    #: No longer set (the lockout moved to `SignInThrottle`); kept for old rows.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Wellness preferences (blur strength, greyscale, autoplay, muted, exposure budgets).
    preferences: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class StaffSession(Base):
    """A console session. Only a SHA-256 of the cookie's token is stored; revoking the rows
    signs a person out everywhere."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    #: "password": only the password was checked (TOTP to come); "full": signed in.
    stage: Mapped[str] = mapped_column(String(16), default="password")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(300), nullable=True)
    #: Set when the person took the offered break (child-safety work stops for the session).
    break_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SignInThrottle(Base):
    """Failed sign-ins of one (e-mail, source address) pair and its lockout. Keyed by a SHA-256
    of the pair, for e-mails that exist and e-mails that do not alike (the answers must not tell
    them apart)."""

    __tablename__ = "staff_sign_in_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Attempts counted (reserved before the check, given back when it succeeds).
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The last sign-in completed from this source (password and second factor).
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class RecoveryCode(Base):
    """A one-time recovery code for a lost authenticator; only its SHA-256 is kept
    (the codes carry 80 random bits, so a fast hash is enough)."""

    __tablename__ = "staff_recovery_codes"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    code_sha256: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class TrainingModuleVersion(Base):
    """An admin's edit of a training module (the packaged Markdown is version 0)."""

    __tablename__ = "training_module_versions"
    __table_args__ = (Index("ix_training_versions_slug", "slug", "created_at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    #: When true, completions older than this edit no longer count (a policy change to acknowledge).
    requires_refresh: Mapped[bool] = mapped_column(Boolean, default=False)
    edited_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class TrainingCompletion(Base):
    """A person completed a module (a version of it) on a date."""

    __tablename__ = "training_completions"
    __table_args__ = (Index("ix_training_completions_staff", "staff_id", "slug", "completed_at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(80))
    version_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
