"""`haven consume`'s path against the real NATS JetStream, RabbitMQ and Redis on loopback: every
valid message screened once (redeliveries and duplicates included), bad records in the
dead-letter topic with their error."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from haven.classify.models import ConversationMessage
from haven.core.db import Database
from haven.core.settings import Settings
from haven.intake.models import IdempotentAnswer
from haven.streams.consumer import Consumer
from haven.streams.kinds import StreamContext, get_kind
from haven.streams.runner import ConsumeOptions
from tests.conftest import make_key
from tests.scale.streams_helpers import (
    Running,
    cleanup,
    message_consumer,
    publish,
    read_topic,
    require_broker,
    topic_name,
    wait_until,
)


def _integration(db: Database) -> str:
    key = make_key(db, ["intake"])
    return key.split("_")[1] if key.count("_") >= 2 else key


def _integration_id(db: Database) -> str:
    from haven.core.models import Integration

    make_key(db, ["intake"], name="stream-service")
    with db.session() as s:
        return str(s.scalar(select(Integration.id).where(Integration.name == "stream-service")))


def _message(i: int, conv: str = "conv-1") -> dict[str, object]:
    return {
        "message_id": f"m-{i}",
        "conversation_id": conv,
        "sender": "acct-a" if i % 2 else "acct-b",
        "recipients": ["acct-b" if i % 2 else "acct-a"],
        "text": f"see you at practice number {i}",
    }


def _recorded(db: Database) -> dict[str, int]:
    with db.session() as s:
        rows = s.execute(
            select(ConversationMessage.external_id, func.count()).group_by(ConversationMessage.external_id)
        ).all()
    return {str(k): int(n) for k, n in rows}


@pytest.mark.parametrize("broker", ["nats", "rabbitmq", "redis"])
def test_consume_screens_each_message_once_and_dead_letters_bad_records(
    broker: str, backend: str, db: Database, settings: Settings
) -> None:
    if backend == "postgres" and broker != "nats":
        pytest.skip("the brokers' paths do not depend on the database: PostgreSQL runs one of them (the suite's time)")
    url = require_broker(broker)
    topic = topic_name()
    integration = _integration_id(db)
    good = [(_message(i), None) for i in range(20)]
    records: list[tuple[bytes | dict[str, object], dict[str, str] | None]] = [
        *good[:10],
        (b"{not json", None),
        ({"conversation_id": "c", "sender": "x"}, None),  # no recipients: the schema refuses it
        good[3],  # a duplicate delivery of m-3
        *good[10:],
    ]
    consumer = message_consumer(db, settings, integration)
    running = Running(url, consumer, ConsumeOptions(topic, prefetch=8, ack_wait=5))
    try:
        publish(url, topic, records)
        assert wait_until(lambda: sum(consumer.counts.values()) - consumer.counts["retried"] >= len(records), 30), (
            consumer.counts
        )
    finally:
        counts = running.stop()
    assert _recorded(db) == {f"m-{i}": 1 for i in range(20)}
    assert counts["done"] == 20 and counts["replayed"] == 1 and counts["dead"] == 2
    with db.session() as s:
        turns = s.scalars(select(ConversationMessage.turn).order_by(ConversationMessage.turn)).all()
        assert list(turns) == list(range(1, 21))  # one conversation, in order, no gap
        assert s.scalar(select(func.count()).select_from(IdempotentAnswer)) == 20
    dead = read_topic(url, f"{topic}.dlq", 2)
    codes = sorted(d["error"]["code"] for d in dead)
    assert codes == ["invalid_json", "invalid_record"], dead
    bad_schema = next(d for d in dead if d["error"]["code"] == "invalid_record")
    assert "recipients" in bad_schema["error"]["message"] and bad_schema["record"]["sender"] == "x"
    assert next(d for d in dead if d["error"]["code"] == "invalid_json")["record"] == "{not json"
    cleanup(url, topic)


def test_a_retryable_failure_is_redelivered_then_dead_lettered(db: Database, settings: Settings) -> None:
    integration = _integration_id(db)
    kind = get_kind("message")
    calls: list[int] = []

    def flaky(session, ctx, body):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) < 3:
            raise OSError("database went away")
        return kind.handle(session, ctx, body)

    from dataclasses import replace

    consumer = Consumer(replace(kind, handle=flaky), StreamContext(settings, db, integration), max_failures=5)
    raw = json.dumps(_message(1)).encode()
    for _ in range(2):
        with pytest.raises(OSError):
            consumer.process(raw)
    assert consumer.process(raw).status == "done" and _recorded(db) == {"m-1": 1}
    assert consumer.process(raw).replayed  # a later redelivery does nothing
    always = Consumer(
        replace(kind, handle=lambda *_: (_ for _ in ()).throw(OSError("down"))),
        StreamContext(settings, db, integration),
        max_failures=2,
    )
    with pytest.raises(OSError):
        always.process(json.dumps(_message(2)).encode())
    out = always.process(json.dumps(_message(2)).encode())
    assert out.status == "dead" and out.error is not None and out.error["code"] == "failed"


def test_a_key_reused_for_another_record_is_dead_lettered(db: Database, settings: Settings) -> None:
    consumer = message_consumer(db, settings, _integration_id(db))
    assert consumer.process(json.dumps(_message(1)).encode()).status == "done"
    other = {**_message(1), "text": "a different message under the same id"}
    out = consumer.process(json.dumps(other).encode())
    assert out.status == "dead" and out.error is not None and out.error["code"] == "idempotency_key_reused"


def test_hash_lookups_from_a_stream_use_the_lookup_door(db: Database, settings: Settings) -> None:
    from haven.banks.runtime import MatcherRuntime

    runtime = MatcherRuntime(db, settings)
    runtime.refresh()
    consumer = Consumer(get_kind("hash_lookup"), StreamContext(settings, db, _integration_id(db), matcher=runtime))
    body = {"hashes": [{"signal_type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e"}]}
    out = consumer.process(json.dumps(body).encode(), {"Idempotency-Key": "batch-1"})
    assert out.status == "done" and out.answer is not None
    assert out.answer["results"][0]["verdict"]["action"] == "allow"
    assert consumer.process(json.dumps(body).encode(), {"Idempotency-Key": "batch-1"}).replayed
    bad = consumer.process(json.dumps({"hashes": [{"signal_type": "md5", "value": "zz" * 16}]}).encode())
    assert bad.status == "dead" and bad.error is not None and bad.error["code"] == "invalid_hash"
