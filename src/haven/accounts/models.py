"""Tables of accounts: the service's accounts (known by the service's own ids), who contacted whom,
and who blocked whom. Relationship signals (first contact, fan-out, blocks) are read from here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from haven.accounts.bands import AGE_BANDS, MINOR_BANDS, AgeBand
from haven.core.clock import now
from haven.core.db import Base, UTCDateTime

__all__ = ["AGE_BANDS", "MINOR_BANDS", "Account", "AgeBand", "Block", "Contact"]


class Account(Base):
    """An account of the calling service, known by the service's own id."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    age_band: Mapped[str] = mapped_column(String(16), default="unknown")
    state: Mapped[str] = mapped_column(String(24), default="active")
    #: Where `age_band` comes from: "declared" by the service, or "assured" by the youth
    #: capability from age signals (a later declaration never overrides an assured band).
    age_source: Mapped[str] = mapped_column(String(16), default="declared", server_default="declared")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class Contact(Base):
    """First and latest contact from one account to another: first contact, fan-out, velocity."""

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_sender_first", "sender", "first_at"),)

    sender: Mapped[str] = mapped_column(String(200), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(200), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    recipient_band: Mapped[str] = mapped_column(String(16), default="unknown")


class Block(Base):
    """`blocker` blocked `blocked` on the service (told to Haven by the service)."""

    __tablename__ = "account_blocks"

    blocker: Mapped[str] = mapped_column(String(200), primary_key=True)
    blocked: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
