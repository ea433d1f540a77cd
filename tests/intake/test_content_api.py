"""`POST /v1/content` and `POST /v1/hashes/lookup` over real HTTP."""

from __future__ import annotations

import json

from PIL import Image
from sqlalchemy import select

from haven.banks.models import Match
from haven.core.db import Database
from haven.core.models import Event, Job
from haven.screening.models import ContentItem, QuarantineObject
from tests.conftest import LiveServer
from tests.helpers import encode, sample


def _bank_with(c, name: str, data: bytes, kind: str = "known_csam") -> dict:
    assert c.post("/v1/banks", json={"name": name, "kind": kind, "default_classification": "A1"}).status_code == 201
    h = c.post("/v1/content", files={"file": ("x.jpg", data)}).json()["hashes"]
    r = c.post(f"/v1/banks/{name}/entries", json={"entries": [{"signal_type": "pdq", "value": h["pdq"]}]})
    assert r.status_code == 201
    return h


def test_block_on_perceptual_match_and_allow_otherwise(server: LiveServer, api_key: str, db: Database) -> None:
    original = encode(sample("astronaut"), quality=95)
    with server.client(api_key) as c:
        _bank_with(c, "known", original)
        copy = encode(sample("astronaut").resize((256, 256)), quality=40)
        meta = {
            "external_id": "up-1",
            "uploader": "acct-9",
            "surface": "upload",
            "recipients": ["acct-2"],
            "created_at": "2026-11-21T10:00:00Z",
            "ip": "192.0.2.7",
        }
        r = c.post("/v1/content", files={"file": ("copy.jpg", copy)}, data={"metadata": json.dumps(meta)})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["verdict"]["action"] == "block"
        assert body["verdict"]["rule"] == "known_material.block"
        (m,) = body["matches"]
        assert m["bank"] == "known" and m["classification"] == "A1" and 0 < m["distance"] <= 31
        other = c.post("/v1/content", files={"file": ("c.jpg", encode(sample("coffee")))}).json()
        assert other["verdict"]["action"] == "allow" and other["matches"] == []
    with db.session() as s:
        blocked = s.get(ContentItem, body["id"])
        assert blocked is not None and blocked.uploader == "acct-9" and blocked.quarantine_id
        allowed = s.get(ContentItem, other["id"])
        assert allowed is not None and allowed.quarantine_id is None
        assert len(s.scalars(select(Match).where(Match.content_id == body["id"])).all()) == 1
        obj = s.get(QuarantineObject, blocked.quarantine_id)
        assert obj is not None
        # The quarantined bytes are encrypted at rest: the plaintext does not appear in the file.
        with open(obj.path, "rb") as f:
            stored = f.read()
        assert copy[100:164] not in stored and len(stored) == len(copy) + 12 + 16
        # The consumers' filters: the block queues review and the uploader's bank-hit link; the
        # allowed upload, whose events every consumer would ignore, queues no job at all.
        assert _consumer_jobs(s, body["id"]) >= {"event:review-tasks", "event:finance-content"}
        assert _consumer_jobs(s, other["id"]) == set()


def _consumer_jobs(s, content_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    ids = set(s.scalars(select(Event.id).where(Event.subject_id == content_id)))
    return {j.kind for j in s.scalars(select(Job).where(Job.kind.like("event:%"))) if j.payload["event_id"] in ids}


def test_allowlist_suppresses_perceptual_match(server: LiveServer, api_key: str) -> None:
    data = encode(sample("camera"))
    with server.client(api_key) as c:
        h = _bank_with(c, "known", data)
        c.post("/v1/banks", json={"name": "fp", "kind": "allowlist"})
        c.post("/v1/banks/fp/entries", json={"entries": [{"signal_type": "pdq", "value": h["pdq"]}]})
        body = c.post("/v1/content", files={"file": ("a.png", encode(sample("camera"), "PNG"))}).json()
        statuses = sorted(m["status"] for m in body["matches"])
        assert statuses == ["active", "allowlisted"]
        assert body["verdict"]["action"] == "allow"


def test_exact_match_and_batch_lookup(server: LiveServer, api_key: str) -> None:
    data = encode(sample("rocket"))
    with server.client(api_key) as c:
        h = c.post("/v1/content", files={"file": ("r.jpg", data)}).json()["hashes"]
        c.post("/v1/banks", json={"name": "md5s", "kind": "known_exploitation"})
        c.post(
            "/v1/banks/md5s/entries",
            json={"entries": [{"signal_type": "md5", "value": h["md5"]}, {"signal_type": "pdq", "value": h["pdq"]}]},
        )
        again = c.post("/v1/content", files={"file": ("r.jpg", data)}).json()
        assert {m["signal_type"] for m in again["matches"]} == {"md5", "pdq"}
        queries = [{"signal_type": "md5", "value": h["md5"]}, {"signal_type": "pdq", "value": h["pdq"]}]
        queries += [{"signal_type": "sha256", "value": f"{i:064x}"} for i in range(998)]
        r = c.post("/v1/hashes/lookup", json={"hashes": queries})
        assert r.status_code == 200
        results = r.json()["results"]
        assert len(results) == 1000
        assert results[0]["verdict"]["action"] == "block" and results[1]["matches"][0]["distance"] == 0
        assert all(x["verdict"]["action"] == "allow" for x in results[2:])
        too_many = c.post("/v1/hashes/lookup", json={"hashes": queries + queries[:1]})
        assert too_many.status_code == 422
        bad = c.post("/v1/hashes/lookup", json={"hashes": [{"signal_type": "pdq", "value": "zz" * 32}]})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_hash"


def test_bad_input_gets_clear_errors(server: LiveServer, api_key: str, settings) -> None:
    with server.client(api_key) as c:
        r = c.post("/v1/content", files={"file": ("a.txt", b"hello, plain text")})
        assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"
        broken = encode(sample("coffee"))[:200]
        r = c.post("/v1/content", files={"file": ("b.jpg", broken)})
        assert r.status_code == 422 and r.json()["error"]["code"] == "undecodable_media"
        r = c.post("/v1/content", files={"file": ("c.jpg", encode(sample("coffee")))}, data={"metadata": "{nope"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_metadata"
        r = c.post(
            "/v1/content",
            files={"file": ("c.jpg", encode(sample("coffee")))},
            data={"metadata": json.dumps({"created_at": "2026-01-01T00:00:00"})},
        )
        assert r.status_code == 422 and "timezone" in r.json()["error"]["message"]
        # A decompression bomb: a small PNG claiming 20000 x 20000 pixels is refused unread.
        bomb = encode(Image.new("L", (20000, 20000)), "PNG")
        r = c.post("/v1/content", files={"file": ("bomb.png", bomb)})
        assert r.status_code == 422 and r.json()["error"]["code"] == "image_too_large"
        big = b"\xff\xd8\xff" + b"0" * (settings.max_upload_bytes + 10)
        r = c.post("/v1/content", files={"file": ("big.jpg", big)})
        assert r.status_code == 413


def test_lookup_writes_only_the_match_log_of_its_hits(server: LiveServer, api_key: str, db: Database) -> None:
    """A lookup's answers are built in a read session; the match log is written in a short
    transaction of its own, and a lookup that matched nothing writes nothing (on SQLite it never
    takes the write lock, which serialised the workers)."""
    import threading

    from sqlalchemy import event

    from haven.screening import deferred

    data = encode(sample("coffee"))
    with server.client(api_key) as c:
        h = _bank_with(c, "lookup-log", data)
        server.app.state.matcher.refresh()
        deferred.drain()  # the upload's deferred classification writes too: not the lookup's statements
        misses = [{"signal_type": "pdq", "value": f"{i:064x}"} for i in range(1, 300)]
        statements: list[str] = []

        def seen(conn, cursor, statement, params, context, many) -> None:
            if threading.current_thread().name.startswith("AnyIO worker"):  # the requests' statements
                statements.append(
                    statement.strip().split()[0].upper() + (" IMMEDIATE" if "IMMEDIATE" in statement else "")
                )

        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            r = c.post("/v1/hashes/lookup", json={"hashes": misses})
            assert r.status_code == 200 and all(not x["matches"] for x in r.json()["results"])
            assert statements and not {"INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE"} & set(statements), statements
            statements.clear()
            hit = {"signal_type": "pdq", "value": h["pdq"]}
            r = c.post("/v1/hashes/lookup", json={"hashes": [hit, *misses[:5], hit]})
            assert [len(x["matches"]) for x in r.json()["results"]] == [1, 0, 0, 0, 0, 0, 1]
            assert statements.count("INSERT") == 1
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
    with db.reading() as s:
        logged = s.execute(select(Match.source, Match.distance).where(Match.source == "lookup")).all()
    assert logged == [("lookup", 0), ("lookup", 0)]
