"""`haven consume`: read records from a topic and screen them as the REST doors do."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import or_, select

from haven.core.cli import console, database, fail, settings


def consume(
    broker: Annotated[
        str, typer.Option(envvar="HAVEN_CONSUME_BROKER", help="nats://, amqp://, redis:// or kafka:// URL")
    ],
    topic: Annotated[str, typer.Option(help="subject, queue, stream or topic to read; bad records go to TOPIC.dlq")],
    integration: Annotated[str, typer.Option(help="the integration (name or id) the records come from")],
    kind: Annotated[str, typer.Option(help="record kind: message (POST /v1/messages) or hash_lookup")] = "message",
    group: Annotated[
        str, typer.Option(help="consumer group / durable name shared by every consumer of the topic")
    ] = "haven",
    prefetch: Annotated[int, typer.Option(min=1, max=10_000, help="unacknowledged records held at most")] = 64,
    ack_wait: Annotated[
        float, typer.Option(min=1, help="seconds before an unacknowledged record is redelivered")
    ] = 30.0,
) -> None:
    """Consume a topic: each record in the REST door's schema, idempotent by its external id,
    acknowledged once committed; invalid records go to the dead-letter topic with their error."""
    from haven.core.logging import configure_logging
    from haven.core.models import Integration
    from haven.streams.brokers import connect
    from haven.streams.consumer import Consumer
    from haven.streams.kinds import StreamContext, get_kind
    from haven.streams.runner import ConsumeOptions, run

    s = settings()
    configure_logging(s.log_format, s.log_level, s.is_production)
    record_kind = get_kind(kind)
    db = database()
    with db.reading() as session:
        row = session.execute(
            select(Integration.id, Integration.name, Integration.scopes).where(
                or_(Integration.id == integration, Integration.name == integration), Integration.revoked_at.is_(None)
            )
        ).first()
    if row is None:
        fail(f"no active integration '{integration}' (haven integration list)")
        return
    if not {"intake", "admin"} & set(row.scopes):
        fail(f"integration '{row.name}' lacks the 'intake' scope")
    import haven.models  # noqa: F401  (tables and event subscribers, as in the API process)

    ctx = StreamContext(s, db, row.id)
    runtime = None
    if record_kind.needs_matcher:
        from haven.banks.runtime import MatcherRuntime

        runtime = MatcherRuntime(db, s)
        runtime.start()
    link = connect(broker)
    try:
        ctx.matcher = runtime
        counts = run(link, Consumer(record_kind, ctx), ConsumeOptions(topic, group, prefetch, ack_wait))
    finally:
        if runtime is not None:
            runtime.stop()
        db.dispose()
    console.print(
        f"consumed {topic}: {counts['done']} screened, {counts['replayed']} redeliveries, "
        f"{counts['dead']} dead-lettered"
    )
