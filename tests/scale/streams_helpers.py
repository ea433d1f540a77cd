"""Helpers of the stream tests: which loopback brokers answer, a consumer running in a thread,
and a reader of a dead-letter topic."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from haven.core.db import Database
from haven.core.settings import Settings
from haven.streams.brokers import Link, connect
from haven.streams.consumer import Consumer
from haven.streams.kinds import StreamContext, get_kind
from haven.streams.runner import ConsumeOptions, consume


def run_async(coro: Any) -> Any:
    """`asyncio.run` in a thread of its own: a Playwright test earlier in the session may leave an
    event loop running in the main thread, where `asyncio.run` refuses to start."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    t = threading.Thread(target=target, name="streams-test-loop")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


BROKERS = {
    "nats": "nats://127.0.0.1:4222",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672/",
    "redis": "redis://127.0.0.1:6379/0",
}


def require_broker(name: str) -> str:
    url = BROKERS[name]
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        pytest.skip(f"{name} does not answer on 127.0.0.1:{port}: start it to run this test")
    return url


def topic_name() -> str:
    return f"haven.test.{uuid.uuid4().hex[:10]}"


class Running:
    """`consume` on its own event loop thread until `stop()`."""

    def __init__(self, url: str, consumer: Consumer, opts: ConsumeOptions) -> None:
        self.loop = asyncio.new_event_loop()
        self.stop_event: asyncio.Event | None = None
        self.counts: dict[str, int] | None = None
        self.error: BaseException | None = None
        self.started = threading.Event()
        self.consumer = consumer

        async def main() -> None:
            self.stop_event = asyncio.Event()
            link = connect(url, graceful_timeout=5)
            orig = link.start

            async def start() -> None:
                await orig()
                self.started.set()

            link.start = start  # type: ignore[method-assign]
            self.counts = await consume(link, consumer, opts, self.stop_event)

        def run() -> None:
            try:
                self.loop.run_until_complete(main())
            except BaseException as exc:
                self.error = exc
                self.started.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert self.started.wait(20), "the consumer did not start"
        if self.error:
            raise self.error

    def stop(self) -> dict[str, int]:
        assert self.stop_event is not None
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(timeout=20)
        if self.error:
            raise self.error
        return self.counts or {}


def message_consumer(db: Database, settings: Settings, integration_id: str) -> Consumer:
    return Consumer(get_kind("message"), StreamContext(settings, db, integration_id))


async def _publish_all(
    url: str, topic: str, records: list[tuple[bytes | dict[str, Any], dict[str, str] | None]]
) -> None:
    link = connect(url)
    await link.start()
    await link.declare(topic)
    try:
        for body, headers in records:
            await link.publish(topic, body, headers=headers)
    finally:
        await link.stop()


def publish(url: str, topic: str, records: list[tuple[bytes | dict[str, Any], dict[str, str] | None]]) -> None:
    run_async(_publish_all(url, topic, records))


def read_topic(url: str, topic: str, want: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    """Read `want` records of a topic (a dead-letter topic) with a consumer group of its own."""
    got: list[dict[str, Any]] = []

    async def main() -> None:
        link: Link = connect(url, graceful_timeout=2)

        async def handler(raw: bytes, headers: dict[str, str]) -> None:
            got.append(json.loads(raw))

        link.subscribe(topic, "dlq-reader", handler, prefetch=16, ack_wait=5)
        await link.start()
        deadline = time.monotonic() + timeout
        while len(got) < want and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # anything more than expected arrives too
        await link.stop()

    run_async(main())
    return got


def wait_until(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def cleanup(url: str, topic: str) -> None:
    """Remove a test's topic and its dead-letter topic from the shared loopback broker."""

    async def main() -> None:
        link = connect(url, graceful_timeout=2)
        await link.start()
        try:
            if link.scheme == "nats":
                from haven.streams.brokers import nats_stream

                await link.broker.config.connection_state.stream.delete_stream(nats_stream(topic))
            elif link.scheme.startswith("amqp"):
                from faststream.rabbit import RabbitQueue

                for name in (topic, f"{topic}.dlq"):
                    q = await link.broker.declare_queue(RabbitQueue(name, durable=True))
                    await q.delete(if_unused=False, if_empty=False)
            else:
                import redis.asyncio as aioredis

                client = aioredis.from_url(url)
                await client.delete(topic, f"{topic}.dlq")
                await client.aclose()
        finally:
            await link.stop()

    try:
        run_async(main())
    except Exception as exc:  # a leftover topic is untidy, not a failure of the test
        print(f"cleanup of {topic} failed: {exc}")
