"""sec_auth: sign-in lockout per (e-mail, source address) pair; TOTP secrets sealed at rest

`staff_sign_in_throttle` counts failed sign-ins per pair (issue 19, items 1 and 3). Existing TOTP
secrets are sealed with AES-256-GCM under the TOTP key of the settings (`HAVEN_TOTP_KEY`, or
derived from the quarantine key), so run this with the same settings as the service; the column
widens to hold the sealed form (item 8). Downgrade unseals them again.

Revision ID: 0810_sec_auth
Revises: 0100_review
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import haven.core.db

revision: str = "0810_sec_auth"
down_revision: str | Sequence[str] | None = "0100_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rows() -> list[tuple[str, str]]:
    rows = op.get_bind().execute(sa.text("SELECT id, totp_secret FROM staff WHERE totp_secret IS NOT NULL"))
    return [(str(r[0]), str(r[1])) for r in rows]


def _set(staff_id: str, value: str) -> None:
    op.get_bind().execute(sa.text("UPDATE staff SET totp_secret = :v WHERE id = :id"), {"v": value, "id": staff_id})


def upgrade() -> None:
    op.create_table(
        "staff_sign_in_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", haven.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("succeeded_at", haven.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", haven.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_staff_sign_in_throttle")),
    )
    if op.get_bind().dialect.name != "sqlite":  # SQLite does not enforce lengths (and a batch
        # rebuild of `staff` would cascade-delete its sessions and codes)
        op.alter_column("staff", "totp_secret", type_=sa.String(length=255), existing_nullable=True)
    rows = [(i, v) for i, v in _rows() if not v.startswith("v1.")]
    if rows:
        from haven.staff import secrets

        for staff_id, value in rows:
            _set(staff_id, secrets.seal(staff_id, value))


def downgrade() -> None:
    rows = [(i, v) for i, v in _rows() if v.startswith("v1.")]
    if rows:
        from haven.staff import secrets

        for staff_id, value in rows:
            _set(staff_id, secrets.unseal(staff_id, value))
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("staff", "totp_secret", type_=sa.String(length=64), existing_nullable=True)
    op.drop_table("staff_sign_in_throttle")
