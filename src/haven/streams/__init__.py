"""Event streams in and out: `haven consume` reads messages and hash look-ups (and, once
registered, any other record kind) from Kafka, NATS JetStream, RabbitMQ or Redis Streams through
the same request models and service functions as the REST doors, and ledger events can be
published to a topic beside (or instead of) webhooks. See docs/scaling.md."""

from haven.core.capability import Capability

CAPABILITY = Capability(
    name="streams",
    summary="event streams in and out: haven consume (Kafka, NATS, RabbitMQ, Redis) and topic publishing",
    jobs=("haven.streams.publish",),
    subscribers=("haven.streams.publish",),
    cli=(("consume", "haven.streams.cli:consume"),),
)
