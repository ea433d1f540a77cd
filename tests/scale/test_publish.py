"""Ledger events out to a broker topic (`HAVEN_STREAM_PUBLISH_URL`), beside the webhooks: a
message's `message.received` event is published by the worker with its id as Idempotency-Key."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from haven.core import jobs
from haven.core.db import Database
from haven.core.ledger import SUBSCRIBERS
from haven.core.models import Event, Job
from haven.core.settings import Settings
from haven.streams import publish
from tests.conftest import make_key
from tests.scale.streams_helpers import cleanup, message_consumer, read_topic, require_broker, topic_name


@pytest.fixture
def publishing(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = require_broker("redis")
    topic = topic_name()
    monkeypatch.setenv("HAVEN_STREAM_PUBLISH_URL", url)
    monkeypatch.setenv("HAVEN_STREAM_PUBLISH_TOPIC", topic)
    monkeypatch.setenv("HAVEN_STREAM_PUBLISH_EVENTS", '["message.received"]')
    assert publish.install()
    yield topic
    for names in SUBSCRIBERS.values():  # other tests must not queue this subscriber's jobs
        if publish.NAME in names:
            names.remove(publish.NAME)
    for p in list(publish._publishers.values()):
        p.close()
    publish._publishers.clear()


def test_events_are_published_to_the_topic_by_the_worker(
    publishing: str, backend: str, db: Database, settings: Settings
) -> None:
    if backend != "sqlite":
        pytest.skip("publishing does not depend on the database (the suite's time)")
    from haven.core.models import Integration

    make_key(db, ["intake"], name="pub-service")
    with db.session() as s:
        integration = s.scalar(select(Integration.id).where(Integration.name == "pub-service"))
    consumer = message_consumer(db, settings, str(integration))
    body = {"message_id": "pub-1", "conversation_id": "c-pub", "sender": "a", "recipients": ["b"], "text": "hello"}
    assert consumer.process(json.dumps(body).encode()).status == "done"
    with db.session() as s:
        event = s.scalar(select(Event).where(Event.type == "message.received"))
        assert event is not None
        queued = s.scalars(select(Job.kind).where(Job.kind == f"event:{publish.NAME}")).all()
    assert len(queued) == 1
    jobs.work(db, once=True)
    got = read_topic("redis://127.0.0.1:6379/0", publishing, 1)
    assert len(got) == 1
    assert got[0]["id"] == event.id and got[0]["type"] == "message.received"
    assert got[0]["data"]["message_id"] == "pub-1" and got[0]["subject_id"] == "c-pub"
    cleanup("redis://127.0.0.1:6379/0", publishing)


def test_without_a_url_nothing_is_subscribed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HAVEN_STREAM_PUBLISH_URL", raising=False)
    assert not publish.install()
    assert all(publish.NAME not in names for names in SUBSCRIBERS.values())
