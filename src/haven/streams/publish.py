"""Verdicts and actions out to a topic, beside (or, with no webhook endpoint, instead of) the
signed webhooks: each ledger event of the configured types is published as
`{"id", "type", "subject_type", "subject_id", "actor", "created_at", "data"}` with header
`Idempotency-Key: <event id>`, so a consumer drops the duplicate that a retried job may send
(delivery is at-least-once, like the webhooks').

Configured by `HAVEN_STREAM_PUBLISH_URL` (a broker URL as `haven consume --broker` takes),
`HAVEN_STREAM_PUBLISH_TOPIC` (default `haven.events`) and `HAVEN_STREAM_PUBLISH_EVENTS`. The
subscription exists only when a URL is set, so a deployment without a broker queues no job.
Publishing runs in the worker (a subscriber job), over one broker connection per process kept on
a background event loop.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.orm import Session

from haven.core.ledger import subscribe
from haven.core.models import Event

if TYPE_CHECKING:  # FastStream is imported only by a process that publishes
    from haven.streams.brokers import Link

NAME = "streams-publish"


class PublishSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAVEN_STREAM_PUBLISH_", env_file=None, extra="ignore")

    url: str = ""
    topic: str = "haven.events"
    events: list[str] = Field(
        default_factory=lambda: [
            "content.verdict",
            "content.enforcement_requested",
            "message.received",
            "conversation.flagged",
            "safety.nudge",
        ]
    )

    @field_validator("events")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        """Only event types of the catalogue (a typo would publish nothing, silently)."""
        from haven.core.events import CATALOGUE

        unknown = [t for t in value if t not in CATALOGUE]
        if unknown:
            raise ValueError(f"HAVEN_STREAM_PUBLISH_EVENTS: unknown event type(s) {', '.join(unknown)}")
        return value


def event_record(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "actor": event.actor,
        "created_at": event.created_at.isoformat(),
        "data": event.data,
    }


class Publisher:
    """A started broker link on its own event loop thread; `send` blocks until the broker has it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="haven-stream-publish", daemon=True)
        self._thread.start()
        from haven.streams.brokers import connect

        self.link: Link = connect(url)
        self._run(self.link.start())

    def _run(self, coro: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def send(self, topic: str, record: dict[str, Any], key: str) -> None:
        self._run(self.link.publish(topic, record, headers={"Idempotency-Key": key}))

    def close(self) -> None:
        try:
            self._run(self.link.stop(), timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)


_publishers: dict[str, Publisher] = {}
_lock = threading.Lock()


def publisher(url: str) -> Publisher:
    with _lock:
        if url not in _publishers:
            _publishers[url] = Publisher(url)
        return _publishers[url]


def publish_event(session: Session, event: Event) -> None:
    cfg = PublishSettings()
    if cfg.url and event.type in cfg.events:
        publisher(cfg.url).send(cfg.topic, event_record(event), key=event.id)


def install(cfg: PublishSettings | None = None) -> bool:
    """Subscribe `publish_event` to the configured event types; False when no URL is set."""
    cfg = cfg or PublishSettings()
    if not cfg.url:
        return False
    subscribe(*cfg.events, name=NAME)(publish_event)
    return True


install()
