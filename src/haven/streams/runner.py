"""The consume loop: a broker subscription feeding `Consumer.process` one record at a time (in a
thread, so the database work never blocks the broker's event loop), bad records to the dead-letter
topic, and a graceful stop: on SIGTERM or SIGINT the subscription stops taking records, the one
in hand is finished and acknowledged, then the connection closes (unacknowledged prefetched
records are redelivered to another consumer)."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass

import anyio

from haven.streams.brokers import Link, dlq_topic
from haven.streams.consumer import Consumer, dead_letter

log = logging.getLogger("haven.streams")
#: Seconds before a record whose processing failed (retryably) is handed back for redelivery.
RETRY_PAUSE = 1.0


@dataclass
class ConsumeOptions:
    topic: str
    group: str = "haven"
    prefetch: int = 64
    ack_wait: float = 30.0


async def consume(link: Link, consumer: Consumer, opts: ConsumeOptions, stop: asyncio.Event) -> dict[str, int]:
    """Consume until `stop` is set; returns the counts (done, replayed, dead, retried)."""

    async def handle(raw: bytes, headers: dict[str, str]) -> None:
        try:
            outcome = await anyio.to_thread.run_sync(consumer.process, raw, headers)
        except Exception:
            log.warning("record failed; the broker will redeliver it", exc_info=True)
            await asyncio.sleep(RETRY_PAUSE)
            raise
        if outcome.status == "dead" and outcome.error is not None:
            record = dead_letter(raw, headers, outcome.error, consumer.kind.name)
            await link.publish(dlq_topic(opts.topic), record, headers={"x-haven-error": str(outcome.error["code"])})

    link.subscribe(opts.topic, opts.group, handle, prefetch=opts.prefetch, ack_wait=opts.ack_wait)
    await link.start()
    await link.declare(opts.topic)
    log.info("consuming", extra={"topic": opts.topic, "kind": consumer.kind.name, "broker": link.scheme})
    try:
        await stop.wait()
    finally:
        await link.stop()
    log.info("stopped consuming", extra=consumer.counts)
    return dict(consumer.counts)


def run(link: Link, consumer: Consumer, opts: ConsumeOptions) -> dict[str, int]:
    """`consume` in a fresh event loop, stopped by SIGTERM or SIGINT."""

    async def main() -> dict[str, int]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await consume(link, consumer, opts, stop)

    return asyncio.run(main())
