"""Database engine, sessions and column types shared by every capability.

One model serves SQLite (the embedded default, in WAL mode) and PostgreSQL (psycopg 3). The
schema is built only by Alembic migrations, never by `create_all`, so tests exercise the same
schema that production runs.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for all Haven tables."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both engines (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use haven.core.clock.now()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(url: str) -> Engine:
    """Create an engine tuned for the URL's backend."""
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if path in ("", ":memory:"):
            kwargs["poolclass"] = NullPool
        else:
            # Keep connections open: closing the last connection checkpoints the WAL, which
            # cost about 8 ms per request under load (measured by the console benchmark).
            kwargs["pool_size"] = 8
            kwargs["max_overflow"] = 16
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["pool_size"] = 10
        kwargs["max_overflow"] = 20
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


#: Every other statement that finds the database locked waits up to this long (SQLite's handler).
BUSY_TIMEOUT_MS = 30000


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when a transaction starts (see _sqlite_begin_immediate).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.close()


#: How long a writer waits for SQLite's write lock before "database is locked" (as busy_timeout).
WRITE_LOCK_TIMEOUT_S = 30.0
#: Between two tries for the write lock: short and constant (see _take_write_lock).
WRITE_LOCK_POLL_S = 0.0005


def _sqlite_begin_immediate(conn: Any) -> None:
    # Taking the write lock at BEGIN avoids SQLITE_BUSY upgrade deadlocks between concurrent
    # writers (claims, counters): the second writer waits instead of failing.
    # Read-only sessions (Database.reading) begin deferred, so in WAL mode they never wait for
    # or block a writer.
    if conn.get_execution_options().get("haven_read_only"):
        conn.exec_driver_sql("BEGIN")
    else:
        _take_write_lock(conn.connection.dbapi_connection)


def _take_write_lock(dbapi_conn: Any) -> None:
    """BEGIN IMMEDIATE, retried every WRITE_LOCK_POLL_S instead of by SQLite's busy handler.

    Why: SQLite's handler sleeps 1, 2, 5, 10 ... 25, 50, 100 ms between tries, so a writer that
    has waited a while sleeps 100 ms at a time while newer writers take the lock on their first
    try. With two server processes writing ~100 transactions a second that unfairness was the
    upload tail: waits of up to 1.9 s for a lock held ~6 ms (p99 of an upload 0.76-0.99 s,
    bench/intake.py). A constant short poll serves waiters about in turn; a poll costs a few
    microseconds and releases the GIL while it sleeps.
    """
    dbapi_conn.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + WRITE_LOCK_TIMEOUT_S
        while True:
            try:
                dbapi_conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise
            time.sleep(WRITE_LOCK_POLL_S)
    finally:
        dbapi_conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


class Database:
    """An engine and its session factory; one per process (API or worker). With `replica_url`
    (`HAVEN_DATABASE_REPLICA_URL`), `replica()` sessions read from a read replica."""

    def __init__(self, url: str, replica_url: str | None = None) -> None:
        self.url = url
        self._checkpointer: tuple[threading.Thread, threading.Event] | None = None
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, class_=Session)
        self._read_sessions = sessionmaker(
            self.engine.execution_options(haven_read_only=True), expire_on_commit=False, class_=Session
        )
        self.replica_engine = make_engine(replica_url) if replica_url and replica_url != url else None
        self._replica_sessions = (
            sessionmaker(
                self.replica_engine.execution_options(haven_read_only=True, postgresql_readonly=True),
                expire_on_commit=False,
                class_=Session,
            )
            if self.replica_engine is not None
            else self._read_sessions
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.sessions() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only (authentication, look-ups): never holds SQLite's write lock.
        Writing in it is a bug; on SQLite such a write may fail with "database is locked"."""
        with self._read_sessions() as s:
            try:
                yield s
            finally:
                s.rollback()

    @contextmanager
    def replica(self) -> Iterator[Session]:
        """A read-only session on the read replica when one is configured (else as `reading`):
        for reads that may lag the primary by the replica's delay (console lists, transparency
        exports, bank listings). Never for a read that must see this request's own writes
        (idempotency, authentication right after a key was made, a claim)."""
        with self._replica_sessions() as s:
            try:
                yield s
            finally:
                # Rows read here are rendered after the block: detach them first, or the rollback
                # expires them and the page fails with DetachedInstanceError.
                s.expunge_all()
                s.rollback()

    def start_checkpointer(self, interval: float) -> None:
        """SQLite file databases: checkpoint the WAL every `interval` seconds from a thread of its
        own (PASSIVE: never waits for or blocks readers and writers), so the work is not done by
        whichever request's commit crosses SQLite's automatic threshold. A no-op elsewhere."""
        path = self.url.split("///", 1)[-1] if self.url.startswith("sqlite") else ""
        if interval <= 0 or not path or path == ":memory:" or self._checkpointer is not None:
            return
        stop = threading.Event()

        def run() -> None:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=1)
            try:
                while not stop.wait(interval):
                    try:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    except sqlite3.Error:  # busy or locked: the next round (or SQLite's own) does it
                        continue
            finally:
                conn.close()

        thread = threading.Thread(target=run, name="haven-sqlite-checkpoint", daemon=True)
        self._checkpointer = (thread, stop)
        thread.start()

    def stop_checkpointer(self) -> None:
        if self._checkpointer is not None:
            thread, stop = self._checkpointer
            stop.set()
            thread.join(timeout=5)
            self._checkpointer = None

    def dispose(self) -> None:
        self.stop_checkpointer()
        self.engine.dispose()
        if self.replica_engine is not None:
            self.replica_engine.dispose()
