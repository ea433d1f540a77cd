"""The API's background WAL checkpoint on SQLite (`Database.start_checkpointer`): pages written
by commits reach the database file without any commit running a checkpoint itself."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from haven.core.db import Database


def _writer(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # only the background thread may checkpoint
    conn.execute("CREATE TABLE IF NOT EXISTS t (x TEXT)")
    return conn


def _write(conn: sqlite3.Connection, rows: int) -> None:
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO t VALUES (?)", [("x" * 200,)] * rows)
    conn.execute("COMMIT")


def _wait_for(cond: object, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_background_checkpoint_moves_the_wal_into_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    w = _writer(path)  # stays open: closing the last connection would checkpoint by itself
    db = Database(f"sqlite:///{path}")
    size0 = path.stat().st_size
    _write(w, 20_000)  # ~4 MB into the WAL, none of it checkpointed yet
    time.sleep(0.3)
    assert path.stat().st_size == size0
    db.start_checkpointer(0.05)
    try:
        assert _wait_for(lambda: path.stat().st_size > size0 + 2_000_000)
    finally:
        db.stop_checkpointer()
    assert db._checkpointer is None
    size1 = path.stat().st_size
    _write(w, 20_000)
    time.sleep(0.3)
    assert path.stat().st_size == size1  # stopped: nothing moves any more
    w.close()
    db.dispose()


def test_not_started_in_memory_or_when_off(tmp_path: Path) -> None:
    memory = Database("sqlite:///:memory:")
    memory.start_checkpointer(0.05)
    assert memory._checkpointer is None
    off = Database(f"sqlite:///{tmp_path / 'off.db'}")
    off.start_checkpointer(0)
    assert off._checkpointer is None
