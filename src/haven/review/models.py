"""Tables of review: tasks in queues, and the decisions reviewers take on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haven.core.clock import new_id, now
from haven.core.db import Base, UTCDateTime


class ReviewTask(Base):
    """One thing for a person to decide. "next" takes the open task with the earliest
    `rank_at` (the creation time moved earlier by severity and score, so older tasks rise
    as they wait) that nobody holds a live lease on."""

    __tablename__ = "review_tasks"
    __table_args__ = (
        Index("ix_review_tasks_next", "status", "queue", "rank_at"),
        Index("ix_review_tasks_subject", "subject_type", "subject_id"),
        Index("ix_review_tasks_uploader", "uploader"),
        Index("ix_review_tasks_claimed", "claimed_by", "status"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    queue: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(64))
    content_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    uploader: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: Child-safety tasks are served and shown only to trained child-safety reviewers.
    child_safety: Mapped[bool] = mapped_column(Boolean, default=False)
    severity: Mapped[int] = mapped_column(Integer, default=1)  # 0 low .. 4 highest
    score: Mapped[float] = mapped_column(default=0.0)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    rank_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: open -> done (decided), cancelled, or resolved (a decision on another task settled its
    #: subject, e.g. the report case its conversation's decision closed). A claim is a live lease.
    status: Mapped[str] = mapped_column(String(16), default="open")
    claimed_by: Mapped[str | None] = mapped_column(String(26), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: A second opinion must come from someone else.
    exclude_staff: Mapped[str | None] = mapped_column(String(26), nullable=True)
    #: The decision this task follows up (escalation, second opinion, appeal).
    parent_decision_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    source_key: Mapped[str | None] = mapped_column(String(120), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ReviewTaskExclusion(Base):
    """A staff member who may not claim or decide a task (an appeal's original deciders, the asker
    of a second opinion): one row each, so "next" filters them all in SQL."""

    __tablename__ = "review_task_exclusions"

    task_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(26), primary_key=True)


class ReviewDecision(Base):
    """A person's decision on a task; the `review.decision` ledger event carries it onward."""

    __tablename__ = "review_decisions"
    __table_args__ = (
        Index("ix_review_decisions_subject", "subject_type", "subject_id", "created_at"),
        Index("ix_review_decisions_reviewer", "reviewer", "created_at"),
        Index("ix_review_decisions_uploader", "uploader", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    task_id: Mapped[str] = mapped_column(String(26), index=True)
    queue: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(40), nullable=True)
    classification: Mapped[str | None] = mapped_column(String(20), nullable=True)
    annotations: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer: Mapped[str] = mapped_column(String(26))
    session_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    child_safety: Mapped[bool] = mapped_column(Boolean, default=False)
    uploader: Mapped[str | None] = mapped_column(String(200), nullable=True)
    content_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    overturns: Mapped[str | None] = mapped_column(String(26), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
