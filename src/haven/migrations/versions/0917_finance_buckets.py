"""finance: buckets WITHOUT ROWID on SQLite, and the prune job's index

Revision ID: 0917_finance_buckets
Revises: 0910_finance
Create Date: 2026-12-01 17:00:00

On SQLite `finance_buckets` becomes a WITHOUT ROWID table (the table is its primary key's
B-tree: one tree written per bucket row instead of two, reads covered by the key); its rows are
copied over. On both engines `ix_finance_buckets_expiry (width, bucket)` lets the prune job
(`haven.finance.jobs`) find expired buckets without scanning the table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0917_finance_buckets"
down_revision: str | Sequence[str] | None = "0910_finance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = "scope, account_id, counterpart, width, bucket, count, total"


def _create(name: str, rowid: bool) -> None:
    op.create_table(
        name,
        sa.Column("scope", sa.String(length=1), nullable=False),
        sa.Column("account_id", sa.String(length=200), nullable=False),
        sa.Column("counterpart", sa.String(length=200), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "scope", "account_id", "counterpart", "width", "bucket", name=op.f("pk_finance_buckets")
        ),
        sqlite_with_rowid=rowid,
    )


def _rebuild(rowid: bool) -> None:
    _create("finance_buckets_new", rowid)
    op.execute(f"INSERT INTO finance_buckets_new ({_COLUMNS}) SELECT {_COLUMNS} FROM finance_buckets")  # noqa: S608
    op.drop_table("finance_buckets")
    op.rename_table("finance_buckets_new", "finance_buckets")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(rowid=False)
    op.create_index("ix_finance_buckets_expiry", "finance_buckets", ["width", "bucket"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_finance_buckets_expiry", table_name="finance_buckets")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(rowid=True)
