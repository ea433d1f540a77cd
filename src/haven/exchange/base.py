"""The exchange interface, shaped like python-threatexchange's `SignalExchangeAPI`: a connector
is built from an exchange's settings and its (unsealed) credentials, fetches one page of updates
after a checkpoint, and submits feedback on an entry when the provider has an API for it.

Pure data and protocols: no database. Connectors do their HTTP through `haven.exchange.http`
(the SSRF guard, a byte cap, the providers' error codes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

Sentiment = Literal["confirm", "overturn", "dispute"]


class ExchangeError(Exception):
    """A fetch or a submission failed; `code` is what the exchange's state shows."""

    def __init__(self, message: str, *, code: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retry_after = retry_after


class FeedbackUnsupported(ExchangeError):
    """The provider has no API for this feedback (it is recorded, not sent)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="feedback_unsupported")


@dataclass(frozen=True)
class UpstreamEntry:
    """One fingerprint of one upstream record, as the provider names it."""

    upstream_id: str
    #: The provider's name for the fingerprint type (NCMEC "PDQ", StopNCII "ImagePDQ", ...).
    upstream_type: str
    value: str
    list_name: str = "*"
    deleted: bool = False
    contributor: str | None = None
    classification: str | None = None
    labels: tuple[str, ...] = ()
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Page:
    """One page of updates and the checkpoint to store once it is applied."""

    entries: list[UpstreamEntry]
    checkpoint: dict[str, Any]
    has_more: bool
    #: Entries the connector refused (expired feed entries): counted, never applied.
    skipped: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FeedbackItem:
    """What a connector needs to send feedback on an entry."""

    upstream_id: str
    upstream_type: str
    value: str
    contributor: str | None
    sentiment: Sentiment
    #: The entry's upstream labels (ThreatExchange keeps the descriptor ids to react to here).
    labels: tuple[str, ...] = ()


class Connector(Protocol):
    """One provider's client behind Haven's interface."""

    kind: str

    def fetch_page(self, checkpoint: Mapping[str, Any]) -> Page:
        """The next page of updates after `checkpoint` ({} for the first fetch)."""
        ...

    def submit_feedback(self, item: FeedbackItem) -> None:
        """Send feedback on one entry, or raise `FeedbackUnsupported`/`ExchangeError`."""
        ...
