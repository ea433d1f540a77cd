"""Read-only sessions on a read replica (`HAVEN_DATABASE_REPLICA_URL`): lists read there, writes
and `reading()` stay on the primary. The "replica" here is a second migrated database with
different rows, so a test can tell which one answered (there is no streaming replica on this
machine; PostgreSQL's replication itself is PostgreSQL's)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from haven.core.db import Database
from haven.core.models import Integration
from tests.conftest import make_key


def test_replica_sessions_read_the_replica_and_writes_go_to_the_primary(
    backend: str, sqlite_template: Path, tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("the routing is the same on both engines; one run shows it")
    primary, replica = tmp_path / "primary.db", tmp_path / "replica.db"
    shutil.copy(sqlite_template, primary)
    shutil.copy(sqlite_template, replica)
    db = Database(f"sqlite:///{primary}", f"sqlite:///{replica}")
    try:
        make_key(db, ["intake"], name="on-primary")
        with db.replica() as s:
            assert s.scalar(select(func.count()).select_from(Integration)) == 0
        with db.reading() as s:
            assert s.scalar(select(Integration.name)) == "on-primary"
        plain = Database(f"sqlite:///{primary}")
        with plain.replica() as s:  # without a replica URL, replica() is the primary
            assert s.scalar(select(Integration.name)) == "on-primary"
        plain.dispose()
    finally:
        db.dispose()


def test_the_deliveries_list_reads_the_replica(backend: str, sqlite_template: Path, tmp_path: Path) -> None:
    if backend != "sqlite":
        pytest.skip("one engine shows the routing")
    from haven.app import create_app
    from haven.core.settings import Settings

    primary, replica = tmp_path / "primary.db", tmp_path / "replica.db"
    shutil.copy(sqlite_template, primary)
    shutil.copy(sqlite_template, replica)
    settings = Settings(
        var_dir=tmp_path / "var",
        database_url=f"sqlite:///{primary}",
        database_replica_url=f"sqlite:///{replica}",
        inline_worker=False,
    )
    app = create_app(settings)
    db: Database = app.state.db
    assert db.replica_engine is not None and str(db.replica_engine.url).endswith("replica.db")
    db.dispose()
