"""Item 19.10: `Idempotency-Key` on POST /v1/content, /v1/messages and /v1/hashes/lookup: a
retry gets the same answer and creates no second record, even when the retries run at the same
time (SQLite and PostgreSQL); the same key with another body is 409; answers expire after 24 h."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from haven.banks.models import Match
from haven.classify.models import ConversationMessage
from haven.core.clock import now
from haven.core.db import Database
from haven.intake.models import IdempotentAnswer
from haven.screening.models import ContentItem
from haven.signals.image import hash_image
from tests.conftest import LiveServer
from tests.helpers import encode, sample

THREADS = 6


def _count(db: Database, model: Any) -> int:
    with db.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _concurrently(server: LiveServer, api_key: str, send: Any) -> list[httpx.Response]:
    def one(_: int) -> httpx.Response:
        with server.client(api_key) as c:
            return send(c)

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(one, range(THREADS)))


def _image() -> bytes:
    return encode(sample("astronaut").resize((96, 96)), quality=85)


def test_content_retries_create_one_record(server: LiveServer, api_key: str, db: Database) -> None:
    key = str(uuid.uuid4())
    data = _image()

    def send(c: httpx.Client) -> httpx.Response:
        return c.post(
            "/v1/content",
            files={"file": ("a.jpg", data)},
            data={"metadata": '{"external_id": "item-1"}'},
            headers={"Idempotency-Key": key},
        )

    answers = _concurrently(server, api_key, send)
    assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert _count(db, ContentItem) == 1
    with server.client(api_key) as c:
        again = send(c)
        assert again.status_code == 200 and again.json() == answers[0].json()
        assert again.headers["idempotent-replayed"] == "true"
        other = c.post(
            "/v1/content",
            files={"file": ("a.jpg", data)},
            data={"metadata": '{"external_id": "item-2"}'},
            headers={"Idempotency-Key": key},
        )
        assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
        # Without a key every upload is its own record, as before.
        assert c.post("/v1/content", files={"file": ("a.jpg", data)}).status_code == 200
    assert _count(db, ContentItem) == 2


def test_message_retries_create_one_record(server: LiveServer, api_key: str, db: Database) -> None:
    key = str(uuid.uuid4())
    body = {"conversation_id": "c-1", "sender": "u-1", "recipients": ["u-2"], "text": "hi there", "message_id": "m-1"}
    answers = _concurrently(
        server, api_key, lambda c: c.post("/v1/messages", json=body, headers={"Idempotency-Key": key})
    )
    assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
    assert len({str(r.json()) for r in answers}) == 1
    assert _count(db, ConversationMessage) == 1
    with server.client(api_key) as c:
        r = c.post("/v1/messages", json={**body, "text": "other"}, headers={"Idempotency-Key": key})
        assert r.status_code == 409


def test_lookup_retries_log_one_match(server: LiveServer, api_key: str, db: Database) -> None:
    pdq = hash_image(_image()).pdq
    with server.client(api_key) as c:
        assert c.post("/v1/banks", json={"name": "known", "kind": "known_csam"}).status_code == 201
        r = c.post("/v1/banks/known/entries", json={"entries": [{"signal_type": "pdq", "value": pdq}]})
        assert r.status_code == 201, r.text
    before = _count(db, Match)
    key = str(uuid.uuid4())
    body = {"hashes": [{"signal_type": "pdq", "value": pdq}]}
    answers = _concurrently(
        server, api_key, lambda c: c.post("/v1/hashes/lookup", json=body, headers={"Idempotency-Key": key})
    )
    assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
    assert answers[0].json()["results"][0]["matches"], "the banked hash matched"
    assert len({str(r.json()) for r in answers}) == 1
    assert _count(db, Match) == before + 1


def test_keys_expire_and_are_validated(server: LiveServer, api_key: str, db: Database) -> None:
    body = {"hashes": [{"signal_type": "md5", "value": "0" * 32}]}
    with server.client(api_key) as c:
        assert c.post("/v1/hashes/lookup", json=body, headers={"Idempotency-Key": "k-1"}).status_code == 200
        with db.session() as s:
            s.execute(update(IdempotentAnswer).values(created_at=now() - timedelta(hours=25)))
        other = {"hashes": [{"signal_type": "md5", "value": "1" * 32}]}
        r = c.post("/v1/hashes/lookup", json=other, headers={"Idempotency-Key": "k-1"})
        assert r.status_code == 200 and "idempotent-replayed" not in r.headers  # the key is free again
        r = c.post("/v1/hashes/lookup", json=body, headers={"Idempotency-Key": "bad key\twith space"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_idempotency_key"
