"""The record kinds a stream can carry: each is its REST door's request model and service call.

A kind is one `register(RecordKind(...))`: its name (`--kind` of `haven consume`), the pydantic
model of its REST body, the idempotency route, where its external id is, and the service call that
screens it in the caller's transaction. The doors' code is called, never copied: a message read
from a topic is decided exactly as `POST /v1/messages` decides it.

To add one (for example the finance transactions events), register it in its own capability's
module and list that module in `haven.streams.kinds.MODULES`:

    register(RecordKind(name="transaction", model=TransactionIn, route="stream:transactions",
                        external_id=lambda t: t.transaction_id, handle=record_transaction_for_stream))
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from haven.core.db import Database
from haven.core.errors import Invalid
from haven.core.settings import Settings


@dataclass
class StreamContext:
    """What a record's service call needs: the process's settings, database, detector and match
    index, and the integration the stream acts for."""

    settings: Settings
    db: Database
    integration_id: str
    matcher: Any = None  # haven.banks.runtime.MatcherRuntime, started by the consumer when a kind needs it
    detector: Any = None

    @property
    def actor(self) -> str:
        return f"integration:{self.integration_id}"


@dataclass(frozen=True)
class RecordKind:
    name: str
    model: type[BaseModel]
    #: The idempotency route (`idempotency_keys.route`), <= 40 characters.
    route: str
    #: The record's own external id (used as its idempotency key), or None when it has none.
    external_id: Callable[[Any], str | None]
    #: Screens one record in the caller's transaction and returns the REST door's answer.
    handle: Callable[[Session, StreamContext, Any], dict[str, Any]]
    #: Needs the match index (MatcherRuntime) in the consumer process.
    needs_matcher: bool = False


KINDS: dict[str, RecordKind] = {}
#: Modules whose import registers kinds (the finance capability adds its own line here).
MODULES: tuple[str, ...] = ("haven.streams.kinds",)


def register(kind: RecordKind) -> RecordKind:
    KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> RecordKind:
    for module in MODULES:
        importlib.import_module(module)
    if name not in KINDS:
        raise Invalid(f"unknown record kind '{name}' (known: {', '.join(sorted(KINDS))})", code="unknown_kind")
    return KINDS[name]


# -- the doors' kinds -----------------------------------------------------------------------


def _message(session: Session, ctx: StreamContext, body: Any) -> dict[str, Any]:
    from haven.classify.conversation import detector_for
    from haven.intake.messages import record_message

    ctx.detector = ctx.detector or detector_for(ctx.settings)
    return record_message(session, ctx.detector, integration_id=ctx.integration_id, actor=ctx.actor, body=body)


def _lookup(session: Session, ctx: StreamContext, body: Any) -> dict[str, Any]:
    from haven.intake import service
    from haven.intake.api import check_hashes
    from haven.intake.schemas import LookupResponse

    queries, problems = check_hashes(body)
    if problems:
        raise Invalid(
            f"hashes[{problems[0]['index']}]: {problems[0]['problem']}",
            code="invalid_hash",
            details={"problems": problems},
        )
    results = service.lookup(
        session, ctx.settings, ctx.matcher.matcher, integration_id=ctx.integration_id, queries=queries
    )
    return LookupResponse(results=results).model_dump(mode="json")


def _models() -> tuple[type[BaseModel], type[BaseModel]]:
    from haven.intake.messages import MessageIn
    from haven.intake.schemas import LookupRequest

    return MessageIn, LookupRequest


_MessageIn, _LookupRequest = _models()
register(RecordKind("message", _MessageIn, "stream:messages", lambda m: m.message_id, _message))
register(RecordKind("hash_lookup", _LookupRequest, "stream:hashes/lookup", lambda _: None, _lookup, needs_matcher=True))
