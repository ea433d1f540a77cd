"""The migrations build exactly the schema the models declare: after `upgrade`, Alembic's
autogenerate finds nothing to add, drop or alter. Moving a model between capabilities (the
screening-core work moved a dozen) or adding a column without its migration fails here."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String

import haven.models  # noqa: F401  (every capability's tables)
from haven.core.db import Base, Database, make_engine
from haven.core.migrate import upgrade


def _differences(url: str, metadata: MetaData = Base.metadata) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": False})
            return [d for d in compare_metadata(ctx, metadata) if not _ignorable(d)]
    finally:
        engine.dispose()


def _ignorable(diff: object) -> bool:
    # alembic's own version table is not a model.
    return isinstance(diff, tuple) and diff[0] == "remove_table" and getattr(diff[1], "name", "") == "alembic_version"


def test_schema_from_migrations_matches_the_models(db: Database) -> None:
    """On SQLite and, where it answers, PostgreSQL (the `db` fixture runs the migrations)."""
    assert _differences(db.url) == []


def test_a_model_column_without_its_migration_is_found(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    upgrade(url)
    copy = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(copy)
    copy.tables["accounts"].append_column(Column("not_migrated", String(10), nullable=True))
    found = _differences(url, copy)
    assert [d[0] for d in found if isinstance(d, tuple)] == ["add_column"]
