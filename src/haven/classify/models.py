"""Tables of classify: conversations with their per-turn state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from haven.core.clock import new_id, now
from haven.core.db import Base, UTCDateTime
from haven.core.sealedcolumn import SealedText


class Conversation(Base):
    """A conversation of the calling service and the detector state carried from turn to turn."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    integration_id: Mapped[str] = mapped_column(String(26))
    participants: Mapped[list[str]] = mapped_column(JSON, default=list)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    #: The detector's running state (see haven.classify.conversation.ConversationState.to_json).
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    grooming_score: Mapped[float] = mapped_column(Float, default=0.0)
    sextortion_score: Mapped[float] = mapped_column(Float, default=0.0)
    grooming_warned_turn: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sextortion_warned_turn: Mapped[int | None] = mapped_column(Integer, nullable=True)
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Messages of a flagged conversation are kept (preserved) for review and reporting.
    preserved: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class ConversationMessage(Base):
    """One message, with the behaviours that fired on it and the scores after it."""

    __tablename__ = "conversation_messages"
    __table_args__ = (Index("ix_convmsg_conv_turn", "conversation_id", "turn"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    turn: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(200))
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Sealed at rest (field-level encryption, haven.core.sealedcolumn): the file shows no text.
    text: Mapped[str] = mapped_column(SealedText("conversation_messages.text"), default="")
    attachments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    behaviours: Mapped[list[Any]] = mapped_column(JSON, default=list)
    grooming_score: Mapped[float] = mapped_column(Float, default=0.0)
    sextortion_score: Mapped[float] = mapped_column(Float, default=0.0)


class MessageAttachment(Base):
    """Which message carried which content item: the indexed way from a file under review to the
    conversation it was sent in (the message's `attachments` JSON keeps the full description)."""

    __tablename__ = "message_attachments"
    __table_args__ = (Index("ix_msgattach_content", "content_id"),)

    message_id: Mapped[str] = mapped_column(String(26), primary_key=True)  # conversation_messages.id
    content_id: Mapped[str] = mapped_column(String(26), primary_key=True)
