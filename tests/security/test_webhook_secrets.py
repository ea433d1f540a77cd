"""Issue 19 item 8 (webhook half): URLs with tokens are redacted in logs, in GET /v1/webhook and
in the ledger; the signing secret is sealed in the database (with a migration for existing rows
and a documented rotation)."""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from haven.core import secretbox
from haven.core.db import Database
from haven.core.logging import configure_logging
from haven.core.migrate import upgrade
from haven.core.models import Event
from haven.enforce import webhooks
from haven.enforce.models import WebhookEndpoint
from tests.conftest import LiveServer, make_key
from tests.enforce.doubles import SECRET, receiver

TOKEN = "tok_" + "q" * 24


def test_httpx_request_lines_do_not_log_credentials_or_query_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level, logging.getLogger("httpx").level
    try:
        configure_logging("console", "INFO")
        with receiver() as rec:
            base = rec.url.replace("http://", f"http://hookuser:{TOKEN}@")
            httpx.post(f"{base}?token={TOKEN}&sig={TOKEN}", json={})
            logging.getLogger("haven.test").warning("calling %s", f"{rec.url}?api_key={TOKEN}")
        err = capsys.readouterr().err
        assert "calling" in err  # the line is logged, redacted
        assert TOKEN not in err
        assert "api_key=***" in err
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        logging.getLogger("httpx").setLevel(saved[2])


def test_webhook_url_tokens_are_redacted_in_the_api_and_the_ledger(server: LiveServer, db: Database) -> None:
    admin = make_key(db, ["admin"])
    with receiver() as rec, server.client(admin) as a:
        url = f"{rec.url}?token={TOKEN}"
        r = a.put("/v1/webhook", json={"url": url, "secret": SECRET})
        assert r.status_code == 200, r.text
        assert TOKEN not in r.text and r.json()["url"] == f"{rec.url}?token=***"
        got = a.get("/v1/webhook")
        assert TOKEN not in got.text and SECRET not in got.text
        assert got.json()["url"] == f"{rec.url}?token=***"
    with db.session() as s:
        events = s.scalars(select(Event).where(Event.type == "webhook.configured")).all()
        assert events and all(TOKEN not in json.dumps(e.data) for e in events)
        # the real URL is still what deliveries use
        target = webhooks.endpoint(s)
        assert target is not None and target[0] == url and target[1] == SECRET


def test_webhook_secret_is_sealed_in_the_database(db: Database) -> None:
    with db.session() as s:
        row = webhooks.configure_endpoint(s, url="http://127.0.0.1:9/h", secret=SECRET, actor="cli")
        row_id = row.id
    with db.engine.connect() as conn:
        stored = conn.execute(text("SELECT secret FROM webhook_endpoints WHERE id = :i"), {"i": row_id}).scalar_one()
        dump = " ".join(str(v) for r in conn.execute(text("SELECT * FROM webhook_endpoints")) for v in r)
    assert SECRET not in dump
    assert secretbox.is_sealed(stored)
    with db.session() as s:
        assert webhooks.endpoint(s) == ("http://127.0.0.1:9/h", SECRET)


def test_migration_seals_existing_clear_text_secrets(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0600_names")  # the schema before sealing
    database = Database(url)
    try:
        with database.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO webhook_endpoints (id, url, secret, enabled, created_at, created_by) "
                    "VALUES ('01OLDROW', 'http://127.0.0.1:9/h', :s, 1, '2026-01-01 00:00:00', 'cli')"
                ),
                {"s": SECRET},
            )
        upgrade(url)
        with database.engine.connect() as conn:
            stored = conn.execute(text("SELECT secret FROM webhook_endpoints")).scalar_one()
        assert SECRET not in stored and secretbox.is_sealed(stored)
        with database.session() as s:
            assert webhooks.endpoint(s) == ("http://127.0.0.1:9/h", SECRET)
    finally:
        database.dispose()


def test_rotation_rewraps_under_the_new_key_and_the_old_key_still_reads(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = os.environ["HAVEN_SECRETS_KEY"]
    with db.session() as s:
        webhooks.configure_endpoint(s, url="http://127.0.0.1:9/h", secret=SECRET, actor="cli")
    new = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("HAVEN_SECRETS_KEY", new)
    monkeypatch.setenv("HAVEN_SECRETS_OLD_KEYS", json.dumps([old]))
    with db.session() as s:
        assert webhooks.endpoint(s) == ("http://127.0.0.1:9/h", SECRET)  # read with the old key
        assert webhooks.rewrap_secrets(s) == 1
    monkeypatch.delenv("HAVEN_SECRETS_OLD_KEYS")  # the old key retired
    with db.session() as s:
        assert webhooks.endpoint(s) == ("http://127.0.0.1:9/h", SECRET)
        assert webhooks.rewrap_secrets(s) == 0
        row = s.scalars(select(WebhookEndpoint)).one()
        assert row.secret.startswith(f"{secretbox.PREFIX}{secretbox.key_id(base64.b64decode(new))}:")
    monkeypatch.setenv("HAVEN_SECRETS_KEY", old)  # a wrong key opens nothing, loudly
    with db.session() as s, pytest.raises(secretbox.SecretError):
        webhooks.endpoint(s)
