"""integrators: test-mode integrations

- `integrations.mode`: `live` (every existing row) or `test` (the whole pipeline runs, but
  nothing reaches real exchanges, NCMEC production or payment actions; every answer says
  `"mode": "test"`). See `haven.core.auth.is_test_mode`.

Revision ID: 0911_integrators_mode
Revises: 0910_integrators
Create Date: 2026-12-10 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0911_integrators_mode"
down_revision: str | Sequence[str] | None = "0910_integrators"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("integrations") as batch_op:
        batch_op.add_column(sa.Column("mode", sa.String(length=8), nullable=False, server_default="live"))


def downgrade() -> None:
    with op.batch_alter_table("integrations") as batch_op:
        batch_op.drop_column("mode")
