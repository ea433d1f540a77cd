"""The few statements of `POST /v1/transactions`, run on the DB-API cursor of the session's
connection (inside the session's transaction), not through SQLAlchemy's execution layer.

Profiling the request (bench/finance.py) showed SQLAlchemy's per-statement work (parameter
processing, result metadata, the ORM's bulk insert) at about a third of the screening's CPU;
the statements themselves are fixed strings with bound parameters, the same on SQLite (3.35+)
and PostgreSQL, so they are kept here in both paramstyles and executed directly. Values are
bound as SQLAlchemy would store them (`UTCDateTime`: naive UTC text on SQLite, an aware
timestamp on PostgreSQL; JSON as its text), so rows written here read back through the ORM as
any other. psycopg prepares a statement on the server after a few executions, SQLite keeps it
in the connection's statement cache.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")


class Sql:
    """One statement with `:name` parameters, and its PostgreSQL (`%(name)s`) spelling."""

    __slots__ = ("pg", "sqlite")

    def __init__(self, sql: str) -> None:
        if "%" in sql:
            raise ValueError("a literal % would need escaping for psycopg")
        self.sqlite = sql
        self.pg = _NAMED.sub(r"%(\1)s", sql)


class Raw:
    """The DB-API cursor of a session's connection (the session's transaction is begun first)."""

    __slots__ = ("cur", "dbapi", "pg")

    def __init__(self, session: Session) -> None:
        conn = session.connection()
        self.pg = conn.dialect.name == "postgresql"
        self.dbapi: Any = conn.dialect.dbapi
        self.cur: Any = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]

    def ts(self, at: datetime) -> object:
        """A timestamp bound as `haven.core.db.UTCDateTime` stores it."""
        if at.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use haven.core.clock.now()")
        if self.pg:
            return at
        return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def run(self, sql: Sql, params: dict[str, Any]) -> Any:
        text = sql.pg if self.pg else sql.sqlite
        try:
            self.cur.execute(text, params)
        except self.dbapi.Error as exc:
            # As SQLAlchemy would raise it (IntegrityError for a concurrent twin, ...), so the
            # callers' handling is the same as for statements run through a session.
            raise DBAPIError.instance(text, params, exc, self.dbapi.Error) from exc
        return self.cur

    def rows(self, sql: Sql, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        return list(self.run(sql, params).fetchall())

    def one(self, sql: Sql, params: dict[str, Any]) -> tuple[Any, ...]:
        row = self.run(sql, params).fetchone()
        if row is None:
            raise LookupError("the statement returned no row")
        return tuple(row)
