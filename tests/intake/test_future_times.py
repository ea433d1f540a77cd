"""A `sent_at` or `created_at` in the future (a skewed client clock) is clamped to the time Haven
received it, so it never becomes an incident time after the fact (issue 18, item 10)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from haven.classify.models import ConversationMessage
from haven.core.db import Database
from haven.screening.models import ContentItem
from tests.conftest import LiveServer
from tests.helpers import encode, sample


def test_future_times_are_clamped_to_the_receive_time(server: LiveServer, api_key: str, db: Database) -> None:
    future = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    past = "2026-01-02T03:04:05+00:00"
    with server.client(api_key) as c:
        sent = datetime.now(UTC)
        for i, when in enumerate((future, past)):
            body = {"message_id": f"m{i}", "conversation_id": "conv-f", "sender": "a", "recipients": ["b"]}
            r = c.post("/v1/messages", json={**body, "text": "hello", "sent_at": when})
            assert r.status_code == 200, r.text
        up = c.post(
            "/v1/content",
            files={"file": ("c.jpg", encode(sample("coffee")))},
            data={"metadata": json.dumps({"external_id": "f-1", "created_at": future})},
        )
        assert up.status_code == 200, up.text
        received = datetime.now(UTC)
    with db.session() as s:
        times = {m.external_id: m.sent_at for m in s.scalars(select(ConversationMessage))}
        item = s.get(ContentItem, up.json()["id"])
    assert sent - timedelta(seconds=1) <= times["m0"] <= received  # clamped, not 30 days ahead
    assert times["m1"] == datetime.fromisoformat(past)  # a past time is kept as sent
    assert item is not None and item.created_at is not None
    assert sent - timedelta(seconds=1) <= item.created_at <= received
