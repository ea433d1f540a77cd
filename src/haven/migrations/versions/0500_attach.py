"""attach: message attachments indexed by content item; review task exclusions one row each

`message_attachments` links a content item to the message that carried it, so the review console
can show the conversation around a file sent as an attachment (backfilled from the messages'
`attachments` JSON). `review_task_exclusions` holds every staff member who may not claim a task
(backfilled from `review_tasks.exclude_staff` and `details["exclude_staff"]`), so "next" can
filter all of them in SQL. On classify's branch; it needs review's tables, hence `depends_on`.

Revision ID: 0500_attach
Revises: 0400_classify
Create Date: 2026-11-22 01:15:00
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0500_attach"
down_revision: str | Sequence[str] | None = "0400_classify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("0100_review",)


def _json(v: Any) -> Any:
    return json.loads(v) if isinstance(v, str) else v


def upgrade() -> None:
    attachments = op.create_table(
        "message_attachments",
        sa.Column("message_id", sa.String(length=26), nullable=False),
        sa.Column("content_id", sa.String(length=26), nullable=False),
        sa.PrimaryKeyConstraint("message_id", "content_id", name=op.f("pk_message_attachments")),
    )
    with op.batch_alter_table("message_attachments", schema=None) as batch_op:
        batch_op.create_index("ix_msgattach_content", ["content_id"], unique=False)
    exclusions = op.create_table(
        "review_task_exclusions",
        sa.Column("task_id", sa.String(length=26), nullable=False),
        sa.Column("staff_id", sa.String(length=26), nullable=False),
        sa.PrimaryKeyConstraint("task_id", "staff_id", name=op.f("pk_review_task_exclusions")),
    )

    bind = op.get_bind()
    # Only content ids Haven holds for the conversation's integration, as intake links new messages.
    msgs = sa.table(
        "conversation_messages",
        sa.column("id", sa.String),
        sa.column("conversation_id", sa.String),
        sa.column("attachments", sa.Text),
    )
    convs = sa.table("conversations", sa.column("id", sa.String), sa.column("integration_id", sa.String))
    items = sa.table("content_items", sa.column("id", sa.String), sa.column("integration_id", sa.String))
    rows: list[dict[str, str]] = []
    q = sa.select(msgs.c.id, msgs.c.attachments, convs.c.integration_id).join(
        convs, convs.c.id == msgs.c.conversation_id
    )
    for mid, raw, integration in bind.execute(q):
        ids = {str(a["content_id"]) for a in (_json(raw) or []) if isinstance(a, dict) and a.get("content_id")}
        if not ids:
            continue
        known = bind.execute(
            sa.select(items.c.id).where(items.c.id.in_(ids), items.c.integration_id == integration)
        ).scalars()
        rows.extend({"message_id": mid, "content_id": cid} for cid in sorted(known))
    if rows:
        op.bulk_insert(attachments, rows)

    tasks = sa.table(
        "review_tasks", sa.column("id", sa.String), sa.column("exclude_staff", sa.String), sa.column("details", sa.Text)
    )
    excl: list[dict[str, str]] = []
    for tid, one, raw in bind.execute(sa.select(tasks.c.id, tasks.c.exclude_staff, tasks.c.details)):
        details = _json(raw) or {}
        staff = {str(x) for x in (details.get("exclude_staff") or [])} if isinstance(details, dict) else set()
        if one:
            staff.add(one)
        excl.extend({"task_id": tid, "staff_id": sid} for sid in sorted(staff))
    if excl:
        op.bulk_insert(exclusions, excl)


def downgrade() -> None:
    op.drop_table("review_task_exclusions")
    with op.batch_alter_table("message_attachments", schema=None) as batch_op:
        batch_op.drop_index("ix_msgattach_content")
    op.drop_table("message_attachments")
