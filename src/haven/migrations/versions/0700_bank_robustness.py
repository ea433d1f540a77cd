"""banks: a robustness level per bank (which PDQ variants Haven banks with media it hashes itself)

`banks.robustness` is `off`, `standard` or `strong` (haven.signals.robust.Robustness). Existing
banks get `strong`, the default: the variants they already hold are kept as they are. The banks
tables are the foundation's, so this starts the `banks` branch off it.

Revision ID: 0700_bank_robustness
Revises: 0001_foundation
Create Date: 2026-12-01 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0700_bank_robustness"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("banks",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("banks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("robustness", sa.String(length=16), server_default="strong", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("banks", schema=None) as batch_op:
        batch_op.drop_column("robustness")
