"""names: one subject kind per table; the CyberTipline's HTTP log is `cybertip_calls`

Until now `subject_type = "report_case"` named two tables: the users' notices (DSA Art 16,
`notice_cases`) and the CyberTipline's cases (`report_cases`). Rows about a notice case become
`notice_case` (events, review tasks and decisions), the event `report_case.closed` becomes
`notice_case.closed`, and `enforcement_decisions.report_case_id` (always a notice case) becomes
`notice_case_id`. `report_exchanges` is renamed `cybertip_calls`, so that "exchange" can mean
hash and signal sharing.

Revision ID: 0600_names
Revises: 0200_enforce
Create Date: 2026-12-01 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0600_names"
down_revision: str | Sequence[str] | None = "0200_enforce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("0100_review", "0300_report")

_NOTICE_IDS = "SELECT id FROM notice_cases"


def _retag(old: str, new: str, old_event: str, new_event: str) -> None:
    for table in ("events", "review_tasks", "review_decisions"):
        op.execute(
            sa.text(
                f"UPDATE {table} SET subject_type = :new WHERE subject_type = :old AND subject_id IN ({_NOTICE_IDS})"  # noqa: S608  (table names are literals above)
            ).bindparams(new=new, old=old)
        )
    op.execute(sa.text("UPDATE events SET type = :new WHERE type = :old").bindparams(new=new_event, old=old_event))


def upgrade() -> None:
    _retag("report_case", "notice_case", "report_case.closed", "notice_case.closed")
    with op.batch_alter_table("enforcement_decisions", schema=None) as batch_op:
        batch_op.alter_column("report_case_id", new_column_name="notice_case_id")
    with op.batch_alter_table("report_exchanges", schema=None) as batch_op:
        batch_op.drop_index("ix_report_exchanges_case_id")
    op.rename_table("report_exchanges", "cybertip_calls")
    with op.batch_alter_table("cybertip_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cybertip_calls_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cybertip_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cybertip_calls_case_id"))
    op.rename_table("cybertip_calls", "report_exchanges")
    with op.batch_alter_table("report_exchanges", schema=None) as batch_op:
        batch_op.create_index("ix_report_exchanges_case_id", ["case_id"], unique=False)
    with op.batch_alter_table("enforcement_decisions", schema=None) as batch_op:
        batch_op.alter_column("notice_case_id", new_column_name="report_case_id")
    _retag("notice_case", "report_case", "notice_case.closed", "report_case.closed")
