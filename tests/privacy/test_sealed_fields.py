"""Field-level encryption: reading the database file directly shows no plaintext for the sealed
columns (message text, reporter name and e-mail, a law-enforcement requester's contacts), the API
and the ORM still read them, and a key rotation re-seals every value so the old key can be dropped."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select, text

from haven.classify.models import ConversationMessage
from haven.core import secretbox
from haven.core.db import Database
from haven.core.settings import Settings
from haven.enforce.notices.models import UserReport
from haven.legal.models import LegalRequest
from haven.privacy.fields import rewrap, sealed_columns
from tests.conftest import LiveServer, make_key

MESSAGE = "see you at the park after school"
NAME, EMAIL = "Pat Reporter", "pat.reporter@example.org"
OFFICER, OFFICER_EMAIL, OFFICER_PHONE = "Det. Robin Quill", "r.quill@police.example", "+1-555-0142"


def _send(server: LiveServer, db: Database) -> None:
    key = make_key(db, ["intake"])
    with server.client(key) as c:
        r = c.post(
            "/v1/messages", json={"conversation_id": "c1", "sender": "a1", "recipients": ["k1"], "text": MESSAGE}
        )
        assert r.status_code in (200, 201), r.text
        r = c.post(
            "/v1/reports",
            json={
                "reporter": {"id": "k1", "name": NAME, "email": EMAIL},
                "target": {"type": "account", "id": "a1"},
                "category": "other",
                "explanation": "rude",
                "good_faith": True,
            },
        )
        assert r.status_code in (200, 201, 202), r.text
    with server.client(make_key(db, ["legal"])) as c:
        r = c.post(
            "/v1/legal/requests",
            json={
                "kind": "preservation",
                "agency": "County Sheriff",
                "requester_name": OFFICER,
                "requester_email": OFFICER_EMAIL,
                "requester_phone": OFFICER_PHONE,
                "targets": ["a1"],
            },
        )
        assert r.status_code == 201, r.text


def test_sealed_columns_are_declared_in_the_models() -> None:
    assert sealed_columns() == [
        ("conversation_messages", "text"),
        ("legal_requests", "requester_email"),
        ("legal_requests", "requester_name"),
        ("legal_requests", "requester_phone"),
        ("user_reports", "reporter_email"),
        ("user_reports", "reporter_name"),
    ]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_sqlite_file_holds_no_plaintext_and_rotation_reseals(
    server: LiveServer, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _send(server, db)
    path = settings.effective_database_url.removeprefix("sqlite:///")
    db.engine.dispose()  # everything on disk (the WAL checkpointed)
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA wal_checkpoint(FULL)")

    blob = Path(path).read_bytes() + b"".join(p.read_bytes() for p in Path(path).parent.glob("*.db-*"))
    for plain in (MESSAGE, NAME, EMAIL, OFFICER, OFFICER_EMAIL, OFFICER_PHONE):
        assert plain.encode() not in blob, plain
    assert b"County Sheriff" in blob  # the file is the right one: unsealed columns are there
    with sqlite3.connect(path) as raw:
        stored = raw.execute("SELECT text FROM conversation_messages").fetchone()[0]
        assert stored.startswith("sealed:v1:")
        # The message model's context in the detector state is sealed too (not a second clear copy).
        state = json.loads(raw.execute("SELECT state FROM conversations").fetchone()[0])
        assert state["recent"].startswith("sealed:v1:")
    with db.session() as s:  # the ORM (and so the console and the report) reads the text
        assert s.scalars(select(ConversationMessage.text)).one() == MESSAGE
        assert s.scalars(select(LegalRequest.requester_email)).one() == OFFICER_EMAIL
        assert s.scalars(select(UserReport.reporter_email)).one() == EMAIL
        assert s.scalars(select(LegalRequest.requester_phone)).one() == OFFICER_PHONE

    # Rotate: the current key becomes old, a new key is current; rewrap; drop the old key.
    old = os.environ["HAVEN_SECRETS_KEY"]
    new = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("HAVEN_SECRETS_KEY", new)
    monkeypatch.setenv("HAVEN_SECRETS_OLD_KEYS", f'["{old}"]')
    columns = [f"{t}.{c}" for t, c in sealed_columns()]
    assert rewrap(db) == dict.fromkeys(columns, 1)
    assert rewrap(db) == dict.fromkeys(columns, 0)
    monkeypatch.setenv("HAVEN_SECRETS_OLD_KEYS", "[]")
    new_id = secretbox.key_id(base64.b64decode(new))
    with db.session() as s:
        stored = s.execute(text("SELECT text FROM conversation_messages")).scalar_one()
        assert stored.startswith(f"sealed:v1:{new_id}:")
        assert s.scalars(select(ConversationMessage.text)).one() == MESSAGE
        assert s.scalars(select(LegalRequest.requester_email)).one() == OFFICER_EMAIL
        assert s.scalars(select(UserReport.reporter_name)).one() == NAME
        assert s.scalars(select(LegalRequest.requester_name)).one() == OFFICER


def test_the_migrations_seal_what_was_stored_in_clear(tmp_path: Path) -> None:
    from haven.core.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0200_enforce")
    upgrade(url, "0500_attach")
    upgrade(url, "0300_report")
    with sqlite3.connect(tmp_path / "old.db") as raw:
        raw.execute(
            "INSERT INTO legal_requests (id, kind, agency, requester_name, requester_email, requester_phone, country,"
            " targets, received_at, status, verification, user_notice, renewals, created_by, created_at, updated_at)"
            " VALUES ('l1', 'preservation', 'County Sheriff', ?, ?, ?, 'US', '[]', '2026-01-01 00:00:00', 'open',"
            " 'unverified', 'undecided', 0, 'staff:x', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
            (OFFICER, OFFICER_EMAIL, OFFICER_PHONE),
        )
        raw.execute(
            "INSERT INTO user_reports (id, case_id, integration_id, reporter_name, reporter_email, trusted_flagger,"
            " category, explanation, good_faith, imminent_risk, notify_outcome, status, received_at)"
            " VALUES ('r1', 'c1', 'i1', ?, ?, 0, 'other', '', 1, 0, 0, 'pending', '2026-01-01 00:00:00')",
            (NAME, EMAIL),
        )
        raw.execute(
            "INSERT INTO conversation_messages (id, conversation_id, turn, sender, recipients, text, attachments,"
            " sent_at, behaviours, grooming_score, sextortion_score)"
            " VALUES ('m1', 'c1', 1, 'a1', '[]', ?, '[]', '2026-01-01 00:00:00', '[]', 0, 0)",
            (MESSAGE,),
        )
    upgrade(url)
    stored = (tmp_path / "old.db").read_bytes()
    assert not any(p.encode() in stored for p in (MESSAGE, NAME, EMAIL, OFFICER, OFFICER_EMAIL, OFFICER_PHONE))
    db = Database(url)
    with db.session() as s:
        assert s.scalars(select(UserReport.reporter_email)).one() == EMAIL
        assert s.scalars(select(ConversationMessage.text)).one() == MESSAGE
        assert s.scalars(select(LegalRequest.requester_email)).one() == OFFICER_EMAIL
