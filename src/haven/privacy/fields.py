"""The sealed columns (field-level encryption) and their key rotation: `haven privacy rewrap`.

The columns are found in the models (every `SealedText` column of `Base.metadata`), so a
capability that seals a new column needs nothing here.
"""

from __future__ import annotations

from sqlalchemy import Text, select, update

from haven.core.db import Base, Database
from haven.core.ledger import audit
from haven.core.sealedcolumn import SealedText, keys, reseal

BATCH = 500


def sealed_columns() -> list[tuple[str, str]]:
    """(table, column) of every sealed column of the models."""
    import haven.models  # noqa: F401

    return sorted(
        (t.name, c.name) for t in Base.metadata.tables.values() for c in t.columns if isinstance(c.type, SealedText)
    )


def rewrap(db: Database, *, actor: str = "system:haven") -> dict[str, int]:
    """Seal every value of every sealed column under the current key (clear text from before, or
    values sealed under an old key); returns how many values changed per column. Audited."""
    key_list = keys()
    changed: dict[str, int] = {}
    for table_name, col_name in sealed_columns():
        table = Base.metadata.tables[table_name]
        pk = list(table.primary_key.columns)
        col = table.c[col_name]
        sealed = col.type
        assert isinstance(sealed, SealedText)
        n = 0
        with db.session() as s:
            stored = col.cast(Text).label("v")  # the stored text, not the opened value
            rows = s.execute(select(*pk, stored).where(col.is_not(None))).all()
            for r in rows:
                new = reseal(r.v, sealed.context, key_list)
                if new is None:
                    continue
                s.execute(update(table).where(*[k == getattr(r, k.name) for k in pk]).values({col_name: new}))
                n += 1
            audit(
                s,
                actor=actor,
                action="privacy.rewrap",
                object_type="column",
                object_id=f"{table_name}.{col_name}",
                purpose="key_rotation",
                details={"count": n},
            )
        changed[f"{table_name}.{col_name}"] = n
    if db.engine.dialect.name == "sqlite" and any(changed.values()):
        # SQLite may keep the replaced values in free pages of the file; VACUUM rewrites it.
        import sqlite3

        path = db.engine.url.database
        if path and path != ":memory:":
            with sqlite3.connect(path, isolation_level=None) as raw:
                raw.execute("VACUUM")
    return changed
