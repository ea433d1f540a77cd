"""The four brokers behind one interface, through FastStream: subscribe to a topic as a durable
consumer group, publish a record, start, stop. The URL's scheme picks the broker:

- `nats://` NATS JetStream: the topic is a subject of stream `HAVEN_<TOPIC>` (made if missing),
  read by a durable pull consumer; unacknowledged records are redelivered after `ack_wait`.
- `amqp://` RabbitMQ: a durable queue with competing consumers; redelivered when the channel closes.
- `redis://` Redis Streams: an XREADGROUP group (a new group reads from the stream's start);
  records a dead consumer left pending are claimed (XAUTOCLAIM) after `ack_wait` idle.
- `kafka://` Kafka: a topic and `group_id`, offsets committed after each record (a new group
  starts at the earliest offset); redelivered from the last commit.

Back-pressure is the broker's: a consumer holds at most `prefetch` unacknowledged records (pull
batch, channel prefetch, max records) and handles them one at a time, so a slow database slows
the reading, not the memory. The dead-letter topic is `<topic>.dlq` on the same broker.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from faststream import AckPolicy, Context
from faststream.message import StreamMessage

from haven.core.errors import Invalid

Handler = Callable[[bytes, dict[str, str]], Awaitable[None]]
SCHEMES = ("nats", "amqp", "amqps", "redis", "rediss", "kafka")


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


def nats_stream(topic: str) -> str:
    """A JetStream stream name for a subject (no dots, spaces or wildcards)."""
    return "HAVEN_" + re.sub(r"[^A-Za-z0-9_-]", "_", topic).upper()


@dataclass
class Link:
    """One broker connection (FastStream broker) with Haven's subscribe and publish."""

    url: str
    broker: Any
    scheme: str
    _groups: list[tuple[str, str]] = field(default_factory=list)

    def subscribe(
        self, topic: str, group: str, handler: Handler, *, prefetch: int = 64, ack_wait: float = 30.0
    ) -> None:
        async def on_record(message: StreamMessage[Any] = Context("message")) -> None:
            await handler(bytes(message.body), {str(k): str(v) for k, v in (message.headers or {}).items()})

        # Acknowledged when the handler returns, redelivered when it raises (retryable failures).
        policy = AckPolicy.NACK_ON_ERROR
        if self.scheme == "nats":
            from faststream.nats import ConsumerConfig, JStream, PullSub

            base = _base(topic)  # a dead-letter subject lives in its topic's stream
            stream = JStream(name=nats_stream(base), subjects=[base, dlq_topic(base)])
            self.broker.subscriber(
                topic,
                stream=stream,
                durable=group,
                pull_sub=PullSub(batch_size=prefetch, timeout=1.0),
                config=ConsumerConfig(ack_wait=ack_wait, max_ack_pending=prefetch * 4),
                ack_policy=policy,
            )(on_record)
        elif self.scheme.startswith("amqp"):
            from faststream.rabbit import Channel, RabbitQueue

            self.broker.subscriber(
                RabbitQueue(topic, durable=True), channel=Channel(prefetch_count=prefetch), ack_policy=policy
            )(on_record)
        elif self.scheme.startswith("redis"):
            from faststream.redis import StreamSub

            from haven.core.jobs import worker_name

            # New records by XREADGROUP; records a dead consumer left pending are taken over by a
            # second reader with XAUTOCLAIM once idle for ack_wait (Redis < 8.4 cannot do both
            # in one command).
            me = worker_name()
            self._groups.append((topic, group))
            self.broker.subscriber(
                stream=StreamSub(topic, group=group, consumer=me, max_records=prefetch), ack_policy=policy
            )(on_record)
            self.broker.subscriber(
                stream=StreamSub(
                    topic,
                    group=group,
                    consumer=f"{me}:claim",
                    max_records=prefetch,
                    min_idle_time=int(ack_wait * 1000),
                ),
                ack_policy=policy,
            )(on_record)
        else:
            self.broker.subscriber(
                topic,
                group_id=group,
                auto_commit=False,
                auto_offset_reset="earliest",  # a new group starts at the topic's first record
                max_records=prefetch,
                ack_policy=policy,
            )(on_record)

    async def declare(self, topic: str) -> None:
        """Make sure the topic and its dead-letter topic can receive: RabbitMQ routes only to a
        declared queue, JetStream stores only subjects of a stream (made here if missing)."""
        if self.scheme.startswith("amqp"):
            from faststream.rabbit import RabbitQueue

            await self.broker.declare_queue(RabbitQueue(dlq_topic(topic), durable=True))
            await self.broker.declare_queue(RabbitQueue(topic, durable=True))
        elif self.scheme == "nats":
            from nats.js.errors import BadRequestError

            base = _base(topic)
            js = self.broker.config.connection_state.stream
            with contextlib.suppress(BadRequestError):  # exists with another configuration: kept as it is
                await js.add_stream(name=nats_stream(base), subjects=[base, dlq_topic(base)])

    async def publish(self, topic: str, body: Any, headers: dict[str, str] | None = None) -> None:
        if self.scheme == "nats":
            await self.broker.publish(body, topic, headers=headers, stream=nats_stream(_base(topic)))
        elif self.scheme.startswith("amqp"):
            await self.broker.publish(body, queue=topic, headers=headers, persist=True)
        elif self.scheme.startswith("redis"):
            await self.broker.publish(body, stream=topic, headers=headers)
        else:
            await self.broker.publish(body, topic=topic, headers=headers)

    async def start(self) -> None:
        if self._groups:
            await self._create_groups()
        await self.broker.start()

    async def _create_groups(self) -> None:
        """Redis: a new consumer group reads the stream from its first record (FastStream would
        create it at `$`, losing what was published before the first consumer started)."""
        import redis.asyncio as aioredis
        from redis.exceptions import ResponseError

        client = aioredis.from_url(self.url)
        try:
            for topic, group in self._groups:
                try:
                    await client.xgroup_create(name=topic, groupname=group, id="0", mkstream=True)
                except ResponseError as exc:
                    if "BUSYGROUP" not in str(exc):
                        raise
        finally:
            await client.aclose()

    async def stop(self) -> None:
        await self.broker.stop()


def _base(topic: str) -> str:
    return topic[: -len(".dlq")] if topic.endswith(".dlq") else topic


def connect(url: str, *, graceful_timeout: float = 15.0) -> Link:
    """The broker for a URL (not yet started)."""
    scheme = urlsplit(url).scheme
    if scheme not in SCHEMES:
        raise Invalid(
            f"--broker must be nats://, amqp://, redis:// or kafka:// (got {url.split('://')[0]!r})",
            code="unknown_broker",
        )
    broker: Any
    if scheme == "nats":
        from faststream.nats import NatsBroker

        broker = NatsBroker(url, graceful_timeout=graceful_timeout, logger=None)
    elif scheme.startswith("amqp"):
        from faststream.rabbit import RabbitBroker

        broker = RabbitBroker(url, graceful_timeout=graceful_timeout, logger=None)
    elif scheme.startswith("redis"):
        from faststream.redis import RedisBroker

        broker = RedisBroker(url, graceful_timeout=graceful_timeout, logger=None)  # type: ignore[arg-type]
    else:
        from faststream.kafka import KafkaBroker

        broker = KafkaBroker(urlsplit(url).netloc, graceful_timeout=graceful_timeout, logger=None)
    return Link(url, broker, scheme)
