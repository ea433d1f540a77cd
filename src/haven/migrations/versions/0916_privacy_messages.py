"""privacy: message text sealed at rest

Every existing `conversation_messages.text` is sealed under `HAVEN_SECRETS_KEY`
(haven.core.sealedcolumn, issue 16 item 4); the column keeps its type (Text). Downgrade opens
them again (it needs the same key).

Revision ID: 0916_privacy_messages
Revises: 0500_attach
Create Date: 2026-12-01 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0916_privacy_messages"
down_revision: str | Sequence[str] | None = "0500_attach"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CTX = "conversation_messages.text"


def upgrade() -> None:
    from haven.core.sealedcolumn import keys, reseal

    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, text FROM conversation_messages WHERE text <> ''")).all()
    if not rows:
        return
    key_list = keys()
    for r in rows:
        new = reseal(r.text, CTX, key_list)
        if new is not None:
            conn.execute(sa.text("UPDATE conversation_messages SET text = :v WHERE id = :id"), {"v": new, "id": r.id})


def downgrade() -> None:
    from haven.core import secretbox
    from haven.core.sealedcolumn import keys

    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, text FROM conversation_messages WHERE text LIKE 'sealed:%'")).all()
    key_list = keys() if rows else []
    for r in rows:
        conn.execute(
            sa.text("UPDATE conversation_messages SET text = :v WHERE id = :id"),
            {"v": secretbox.unseal(r.text, key_list, CTX), "id": r.id},
        )
