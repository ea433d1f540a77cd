"""privacy: law-enforcement requesters' contact details sealed at rest

`legal_requests.requester_name`, `requester_email` and `requester_phone` (an officer's name,
e-mail and phone: personal data) become Text and every existing value is sealed under
`HAVEN_SECRETS_KEY` (haven.core.sealedcolumn), as reporters' contacts were in 0916_privacy_reports.
The agency and reference stay clear: they name an organisation and a case, and are searched.
Downgrade opens them again (it needs the same key).

Revision ID: 0917_privacy_legal
Revises: 0300_report
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0917_privacy_legal"
down_revision: str | Sequence[str] | None = "0300_report"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "legal_requests"
COLUMNS = {
    "requester_name": (sa.String(200), False),
    "requester_email": (sa.String(255), True),
    "requester_phone": (sa.String(64), True),
}


def _reseal(opening: bool) -> None:
    from haven.core import secretbox
    from haven.core.sealedcolumn import keys, reseal

    conn = op.get_bind()
    key_list = keys()
    for col in COLUMNS:
        table = sa.table(TABLE, sa.column("id"), sa.column(col))
        rows = conn.execute(sa.select(table.c.id, table.c[col].label("v")).where(table.c[col].is_not(None))).all()
        for r in rows:
            ctx = f"{TABLE}.{col}"
            new = (
                (secretbox.unseal(r.v, key_list, ctx) if secretbox.is_sealed(r.v) else None)
                if opening
                else reseal(r.v, ctx, key_list)
            )
            if new is not None:
                conn.execute(sa.update(table).where(table.c.id == r.id).values({col: new}))


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        for col, (old, nullable) in COLUMNS.items():
            batch.alter_column(col, type_=sa.Text(), existing_type=old, existing_nullable=nullable)
    _reseal(opening=False)


def downgrade() -> None:
    _reseal(opening=True)
    with op.batch_alter_table(TABLE) as batch:
        for col, (old, nullable) in COLUMNS.items():
            batch.alter_column(col, type_=old, existing_type=sa.Text(), existing_nullable=nullable)
