"""sec_outbound: webhook signing secrets sealed at rest

`webhook_endpoints.secret` held the signing secret in clear text. Each existing secret is sealed
with AES-256-GCM under `HAVEN_SECRETS_KEY` (haven.core.secretbox, the row id bound as associated
data); the column keeps its name and type and now holds `sealed:v1:<key id>:<base64>`. Downgrade
opens them again (it needs the same key). No schema change.

Revision ID: 0820_sec_outbound
Revises: 0600_names
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0820_sec_outbound"
down_revision: str | Sequence[str] | None = "0600_names"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROWS = sa.text("SELECT id, secret FROM webhook_endpoints")
_SET = sa.text("UPDATE webhook_endpoints SET secret = :secret WHERE id = :id")


def _context(row_id: str) -> str:
    return f"webhook_endpoints.secret:{row_id}"


def upgrade() -> None:
    from haven.core import secretbox
    from haven.core.settings import Settings

    conn = op.get_bind()
    rows = [r for r in conn.execute(_ROWS) if not secretbox.is_sealed(r.secret)]
    if not rows:
        return
    key = Settings().secrets_keys()[0]  # only read when there is something to seal
    for r in rows:
        conn.execute(_SET, {"id": r.id, "secret": secretbox.seal(r.secret, key, _context(r.id))})


def downgrade() -> None:
    from haven.core import secretbox
    from haven.core.settings import Settings

    conn = op.get_bind()
    rows = [r for r in conn.execute(_ROWS) if secretbox.is_sealed(r.secret)]
    if not rows:
        return
    keys = Settings().secrets_keys()
    for r in rows:
        conn.execute(_SET, {"id": r.id, "secret": secretbox.unseal(r.secret, keys, _context(r.id))})
