"""privacy: reporter contact details sealed at rest

`user_reports.reporter_name` and `reporter_email` become Text (a sealed value is longer than the
320 characters an e-mail may have) and every existing value is sealed under `HAVEN_SECRETS_KEY`
(haven.core.sealedcolumn, issue 16 item 4). Downgrade opens them again (it needs the same key).

Revision ID: 0916_privacy_reports
Revises: 0200_enforce
Create Date: 2026-12-01 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0916_privacy_reports"
down_revision: str | Sequence[str] | None = "0200_enforce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("reporter_name", "reporter_email")


def _reseal(opening: bool) -> None:
    from haven.core import secretbox
    from haven.core.sealedcolumn import keys, reseal

    conn = op.get_bind()
    for col in COLUMNS:
        table = sa.table("user_reports", sa.column("id"), sa.column(col))
        rows = conn.execute(sa.select(table.c.id, table.c[col].label("v")).where(table.c[col].is_not(None))).all()
        if not rows:
            continue
        key_list = keys()
        for r in rows:
            ctx = f"user_reports.{col}"
            new = (
                (secretbox.unseal(r.v, key_list, ctx) if secretbox.is_sealed(r.v) else None)
                if opening
                else reseal(r.v, ctx, key_list)
            )
            if new is not None:
                conn.execute(sa.update(table).where(table.c.id == r.id).values({col: new}))


def upgrade() -> None:
    with op.batch_alter_table("user_reports") as batch:
        batch.alter_column("reporter_name", type_=sa.Text(), existing_type=sa.String(200), existing_nullable=True)
        batch.alter_column("reporter_email", type_=sa.Text(), existing_type=sa.String(320), existing_nullable=True)
    _reseal(opening=False)


def downgrade() -> None:
    _reseal(opening=True)
    with op.batch_alter_table("user_reports") as batch:
        batch.alter_column("reporter_name", type_=sa.String(200), existing_type=sa.Text(), existing_nullable=True)
        batch.alter_column("reporter_email", type_=sa.String(320), existing_type=sa.Text(), existing_nullable=True)
