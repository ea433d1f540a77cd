"""Benchmark of `haven consume`: messages/s screened from each loopback broker (NATS JetStream,
RabbitMQ, Redis Streams) into SQLite or PostgreSQL, one consumer process, one record at a time
(each in its own transaction with its idempotency row).

Run: .venv/bin/python bench/consume.py [--messages 2000] [--brokers nats,rabbitmq,redis]
[--database sqlite|postgres]. Prints figures, ends with `RESULT {json}`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from tests.scale.streams_helpers import (
    BROKERS,
    Running,
    message_consumer,
    publish,
    topic_name,
    wait_until,
)

from haven.core.db import Database
from haven.core.migrate import upgrade
from haven.core.settings import Settings
from haven.streams.runner import ConsumeOptions


def messages(n: int, tag: str) -> list[tuple[dict[str, object], None]]:
    return [
        (
            {
                "message_id": f"{tag}-{i}",
                "conversation_id": f"{tag}-conv-{i % 200}",
                "sender": f"acct-{i % 400}",
                "recipients": [f"acct-{(i + 1) % 400}"],
                "text": f"see you at practice number {i}",
            },
            None,
        )
        for i in range(n)
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--brokers", default="nats,rabbitmq,redis")
    ap.add_argument("--database", default="sqlite")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    pg_admin = os.environ.get("PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    dbname = f"haven_bench_{uuid.uuid4().hex[:8]}"
    if args.database == "postgres":
        with psycopg.connect(pg_admin.replace("+psycopg", ""), autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{dbname}"')
        url = pg_admin.rsplit("/", 1)[0] + f"/{dbname}"
    else:
        url = f"sqlite:///{tmp / 'haven.db'}"
    upgrade(url)
    settings = Settings(var_dir=tmp / "var", database_url=url, inline_worker=False)
    db = Database(url)
    from haven.core.auth import create_integration

    with db.session() as s:
        integration, _ = create_integration(s, "bench-stream", ["intake"])
    results: dict[str, float] = {}
    try:
        for broker in args.brokers.split(","):
            topic = topic_name()
            records = messages(args.messages, topic.rsplit(".", 1)[1])
            publish(BROKERS[broker], topic, records)  # a backlog, as after an outage
            consumer = message_consumer(db, settings, integration.id)
            t0 = time.perf_counter()
            running = Running(BROKERS[broker], consumer, ConsumeOptions(topic, prefetch=64))
            ok = wait_until(lambda c=consumer: c.counts["done"] + c.counts["replayed"] >= args.messages, 900)
            elapsed = time.perf_counter() - t0
            running.stop()
            assert ok, consumer.counts
            results[broker] = round(args.messages / elapsed, 1)
            print(
                f"{broker:9s} {args.database}: {results[broker]:7.1f} messages/s ({args.messages} in {elapsed:.1f} s)"
            )
    finally:
        db.dispose()
        if args.database == "postgres":
            with psycopg.connect(pg_admin.replace("+psycopg", ""), autocommit=True) as c:
                c.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (dbname,))
                c.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
    print(
        "RESULT " + json.dumps({"messages": args.messages, "database": args.database, "messages_per_second": results})
    )


if __name__ == "__main__":
    main()
