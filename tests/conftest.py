"""Shared fixtures: a migrated database on SQLite (always) and PostgreSQL (when
HAVEN_TEST_POSTGRES_URL is set), settings in a temporary folder, a real HTTP server on loopback,
and an API key.

Tests that take the `db` fixture run once per backend. The schema is always built by the
Alembic migrations: once per session into a template, then copied (SQLite) or truncated
(PostgreSQL) for each test.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import text

from haven.core.db import Base, Database
from haven.core.migrate import upgrade
from haven.core.settings import Settings

PG_URL = os.environ.get("HAVEN_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "haven.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    import psycopg

    admin = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"haven_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _truncate_all(db: Database) -> None:
    tables = [t.name for t in Base.metadata.sorted_tables]
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        conn.execute(text("INSERT INTO counters (name, value) VALUES ('banks', 0)"))


_TEST_SECRETS_KEY = base64.b64encode(os.urandom(32)).decode()  # random per test session


@pytest.fixture(autouse=True)
def _outbound_and_secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk to doubles on loopback: allow exactly loopback for outbound connections, which
    Haven refuses by default (haven.core.outbound), and seal secrets under a session key rather
    than a key file in ./var. Security tests set their own values."""
    monkeypatch.setenv("HAVEN_OUTBOUND_ALLOWED_NETWORKS", '["127.0.0.0/8", "::1/128"]')
    monkeypatch.setenv("HAVEN_SECRETS_KEY", _TEST_SECRETS_KEY)


@pytest.fixture(autouse=True)
def _fresh_sign_in_limits() -> Iterator[None]:
    """Sign-in rate limits are per process: each test starts with none counted."""
    from haven.staff.service import reset_rate_limits

    reset_rate_limits()
    yield
    reset_rate_limits()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "haven.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    return str(request.getfixturevalue("postgres_database"))


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        var_dir=tmp_path / "var",
        database_url=db_url,
        log_format="console",
        index_refresh_seconds=0.2,
        inline_worker=False,  # tests run jobs explicitly with haven.core.jobs.work(db, once=True)
    )


@pytest.fixture
def db(settings: Settings, backend: str) -> Iterator[Database]:
    database = Database(settings.effective_database_url)
    if backend == "postgres":
        _truncate_all(database)
    yield database
    # An event that does not fit the catalogue is a bug in Haven: fail loudly even when it was
    # recorded inside a job (the job runner catches every error and retries).
    with database.engine.connect() as conn:
        misfits = conn.execute(text("SELECT kind, last_error FROM jobs WHERE last_error LIKE '%EventError%'")).all()
    database.dispose()
    if misfits:
        pytest.fail(f"jobs recorded events that do not fit the catalogue: {[tuple(m) for m in misfits]}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    app: object

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture
def server(settings: Settings, db: Database) -> Iterator[LiveServer]:
    """The real application served by uvicorn on a loopback port, in a thread."""
    from haven.app import create_app

    app = create_app(settings, db)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield LiveServer(url=f"http://127.0.0.1:{port}", app=app)
    srv.should_exit = True
    thread.join(timeout=10)


def make_key(db: Database, scopes: list[str], name: str | None = None) -> str:
    from haven.core.auth import create_integration

    with db.session() as s:
        _, key = create_integration(s, name or f"test-{uuid.uuid4().hex[:8]}", scopes)
    return key


@pytest.fixture
def api_key(db: Database) -> str:
    """A key with every integration scope except admin."""
    from haven.core.auth import SCOPES

    return make_key(db, [s for s in SCOPES if s != "admin"])
