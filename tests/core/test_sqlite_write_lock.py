"""Writers on SQLite take the write lock by a short constant poll (`core.db._take_write_lock`),
not SQLite's busy handler, whose sleeps grow to 100 ms: a writer that has waited a while gets the
lock soon after it is released, and one that waits too long fails as SQLite would."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from haven.core import db as core_db
from haven.core.db import BUSY_TIMEOUT_MS, Database


def _holder(path: Path, seconds: float, held: threading.Event) -> threading.Thread:
    def hold() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    return threading.Thread(target=hold)


def _database(tmp_path: Path) -> tuple[Path, Database]:
    path = tmp_path / "w.db"
    database = Database(f"sqlite:///{path}")
    with database.session() as s:
        s.execute(text("CREATE TABLE t (x INTEGER)"))
    return path, database


def test_a_waiting_writer_gets_the_lock_right_after_its_release(tmp_path: Path) -> None:
    path, database = _database(tmp_path)
    # 240 ms: SQLite's own handler has slept 1+2+5+...+50 = 228 ms by then and sleeps 100 ms
    # more, so it would take the lock ~90 ms after the release.
    held = threading.Event()
    holder = _holder(path, 0.24, held)
    holder.start()
    assert held.wait(5)
    t0 = time.perf_counter()
    with database.session() as s:
        s.execute(text("INSERT INTO t VALUES (1)"))
        waited = time.perf_counter() - t0
    holder.join()
    assert 0.2 <= waited < 0.24 + 0.04, waited
    with database.reading() as s:
        assert s.scalar(text("SELECT count(*) FROM t")) == 1
        # The connection's own busy timeout is back for every other statement.
        assert s.scalar(text("PRAGMA busy_timeout")) == BUSY_TIMEOUT_MS
    database.dispose()


def test_a_writer_that_waits_too_long_fails_as_locked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, database = _database(tmp_path)
    monkeypatch.setattr(core_db, "WRITE_LOCK_TIMEOUT_S", 0.1)
    held = threading.Event()
    holder = _holder(path, 0.5, held)
    holder.start()
    assert held.wait(5)
    with pytest.raises(Exception, match="database is locked"), database.session() as s:
        s.execute(text("INSERT INTO t VALUES (1)"))
    holder.join()
    with database.session() as s:  # the pool's connection still works, with its timeout restored
        s.execute(text("INSERT INTO t VALUES (2)"))
    with database.reading() as s:
        assert s.scalar(text("SELECT count(*) FROM t")) == 1
        assert s.scalar(text("PRAGMA busy_timeout")) == BUSY_TIMEOUT_MS
    database.dispose()
