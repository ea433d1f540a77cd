"""integrators: Standard Webhooks secret rotation, trace context on jobs

- `webhook_endpoints.previous_secret` / `previous_until`: the secret a rotation replaced, sealed
  like `secret`, still used to sign (a second `v1,` signature) until `previous_until`.
- `jobs.trace_context`: the W3C `traceparent` of the span that queued the job, so the job's span
  continues the request's trace (haven.core.tracing). Never content, only ids.

Revision ID: 0910_integrators
Revises: 0820_sec_outbound
Create Date: 2026-12-10 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import haven.core.db

revision: str = "0910_integrators"
down_revision: str | Sequence[str] | None = "0820_sec_outbound"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch_op:
        batch_op.add_column(sa.Column("previous_secret", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("previous_until", haven.core.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.add_column(sa.Column("trace_context", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.drop_column("trace_context")
    with op.batch_alter_table("webhook_endpoints") as batch_op:
        batch_op.drop_column("previous_until")
        batch_op.drop_column("previous_secret")
