"""Item 19.7: the service's `content_type` is never trusted. A stored item whose content_type
carries a header injection (rows from before input validation) is revealed as the type sniffed
from its bytes, with one `media.view` record; a reveal whose bytes never left writes no
`media.view` (the record `fileViewedByEsp` is built from); the evidence file of a report is
named and typed by its bytes."""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from typing import Any

from sqlalchemy import select

from haven.core import jobs
from haven.core.clock import now
from haven.core.db import Database
from haven.core.models import AuditRecord
from haven.core.settings import Settings
from haven.cybertip.cases import preserve_item
from haven.cybertip.models import ReportCase
from haven.evidence.vault import Vault
from haven.screening.models import ContentItem
from tests.conftest import LiveServer
from tests.helpers import encode, sample
from tests.review.console_client import ConsoleClient
from tests.review.fixtures import PASSWORD, bank_and_flag, make_staff

INJECTED = "image/jpeg\r\nX-Injected: yes"


def _views(db: Database) -> list[AuditRecord]:
    with db.sessions() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.action == "media.view")))


def _flagged_task(server: LiveServer, api_key: str, db: Database) -> tuple[ConsoleClient, str, str, bytes]:
    copy = encode(sample("astronaut").resize((320, 320)), quality=80)
    with server.client(api_key) as c:
        assert bank_and_flag(c, encode(sample("astronaut"), quality=95), copy)["verdict"]["action"] == "block"
    jobs.work(db, once=True)
    with db.session() as s:
        item = s.scalar(select(ContentItem))
        assert item is not None
        item.content_type = INJECTED  # as stored before content_type was validated on input
        content_id = item.id
    _, secret = make_staff(db, "cs@example.org", ["child_safety_reviewer"])
    c = ConsoleClient(server.url)
    c.sign_in("cs@example.org", PASSWORD, secret)
    r = c.post("/console/queues/known_material/next")
    assert r.status_code == 303
    task_url = r.headers["location"]
    assert re.search(content_id, c.get(task_url).text)
    return c, f"{task_url}/media/{content_id}/file", content_id, copy


def test_reveal_serves_the_sniffed_type_and_records_one_view(server: LiveServer, api_key: str, db: Database) -> None:
    c, file_url, _, copy = _flagged_task(server, api_key, db)
    r = c.get(file_url)
    assert r.status_code == 200 and r.content == copy
    assert r.headers["content-type"] == "image/jpeg"
    assert "x-injected" not in r.headers
    deadline = time.monotonic() + 5  # the record is written just after the bytes were sent
    while not _views(db) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    assert len(_views(db)) == 1


def test_reveal_that_was_not_sent_writes_no_view(server: LiveServer, api_key: str, db: Database) -> None:
    c, file_url, _, _ = _flagged_task(server, api_key, db)
    cookie = "; ".join(f"{k}={v}" for k, v in c.jar.items())
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": file_url,
        "raw_path": file_url.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            raise ConnectionResetError("the reviewer's connection dropped")

    async def call() -> None:
        with contextlib.suppress(ConnectionResetError):
            await server.app(scope, receive, send)  # type: ignore[operator]

    # In a thread of its own: another test (Playwright) may leave an event loop running here.
    runner = threading.Thread(target=lambda: asyncio.run(call()))
    runner.start()
    runner.join(timeout=30)
    assert sent and sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200, sent[:1]
    time.sleep(0.2)  # a record written after the send would have landed by now
    # The bytes never left: no media.view, so fileViewedByEsp stays false.
    assert [(v.action, v.purpose) for v in _views(db)] == []


def test_evidence_file_is_named_by_its_bytes(
    server: LiveServer, api_key: str, db: Database, settings: Settings
) -> None:
    _flagged_task(server, api_key, db)
    with db.session() as s:
        item = s.scalar(select(ContentItem))
        assert item is not None and item.content_type == INJECTED
        case = ReportCase(
            category="csam",
            incident_type="Child Pornography (possession, manufacture, and distribution)",
            incident_at=now(),
            subject_type="content",
            subject_id=item.id,
            content_ids=[item.id],
            created_by="system:haven",
        )
        s.add(case)
        s.flush()
        obj = preserve_item(s, settings, Vault.from_settings(settings), case, item)
        assert obj is not None
        assert obj.file_name == f"{item.id}.jpeg"
        assert obj.content_type == "image/jpeg"
