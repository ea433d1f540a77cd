"""One record from a stream, from bytes to a committed answer: parse, validate against the kind's
REST model, screen through the door's service call with its idempotency record in the same
transaction, and say what the broker should do with the message.

Delivery is at-least-once (the broker redelivers what was not acknowledged), so exactly-once
*effects* come from idempotency: the record's external id (a message's `message_id`, else the
broker message's `Idempotency-Key` header) is the key of an `idempotency_keys` row committed with
the record's writes. A redelivered record finds its row and is acknowledged without a second
record. A record that can never succeed (not JSON, not the schema, refused by the service) goes
to the dead-letter topic with its error; a failure that may pass (the database is down) is
retried by the broker, and after `max_failures` in a row also goes to the dead-letter topic.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from haven.core.errors import HavenError
from haven.intake import idempotency
from haven.streams.kinds import RecordKind, StreamContext

log = logging.getLogger("haven.streams")
KEY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class RecordOutcome:
    """`done`: acknowledge (`replayed` when an earlier delivery already did the work);
    `dead`: publish `error` to the dead-letter topic, then acknowledge."""

    status: Literal["done", "dead"]
    answer: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    replayed: bool = False


@dataclass
class Consumer:
    kind: RecordKind
    ctx: StreamContext
    max_failures: int = 5
    _failures: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {"done": 0, "replayed": 0, "dead": 0, "retried": 0})

    def process(self, raw: bytes, headers: dict[str, str] | None = None) -> RecordOutcome:
        """Handle one delivery; raises only for failures the broker should redeliver."""
        headers = headers or {}
        outcome = self._process(raw, headers)
        self.counts["replayed" if outcome.replayed else outcome.status] += 1
        return outcome

    def _process(self, raw: bytes, headers: dict[str, str]) -> RecordOutcome:
        try:
            obj = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return _dead("invalid_json", f"the record is not JSON: {exc}")
        except RecursionError:
            return _dead("invalid_json", "the record is nested too deeply")
        try:
            body = self.kind.model.model_validate(obj)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            return _dead(
                "invalid_record",
                f"{where}: {first['msg']}" if where else first["msg"],
                errors=json.loads(exc.json(include_url=False)),
            )
        key = self.kind.external_id(body) or headers.get(KEY_HEADER) or headers.get(KEY_HEADER.lower())
        attempt = None
        if key:
            if not 1 <= len(key) <= idempotency.MAX_KEY:
                return _dead(
                    "invalid_idempotency_key", f"the record's key must be 1 to {idempotency.MAX_KEY} characters"
                )
            attempt = idempotency.Attempt(
                self.ctx.integration_id,
                self.kind.route,
                key,
                idempotency.fingerprint(body.model_dump_json().encode()),
                int(self.ctx.settings.idempotency_ttl_seconds),
            )
        try:
            outcome = self._screen(body, attempt)
        except HavenError as exc:  # the service refused it: it will refuse it every time
            return _dead(exc.code, str(exc), details=exc.details)
        except Exception as exc:
            ident = key or str(hash(raw))
            n = self._failures[ident] = self._failures.get(ident, 0) + 1
            if n >= self.max_failures:
                self._failures.pop(ident, None)
                log.exception("record failed %s times; dead-lettered", n)
                return _dead("failed", f"{type(exc).__name__}: {exc}", details={"attempts": n})
            self.counts["retried"] += 1
            raise
        if key:
            self._failures.pop(key, None)
        return outcome

    def _screen(self, body: Any, attempt: idempotency.Attempt | None) -> RecordOutcome:
        db = self.ctx.db
        for tries in range(3):
            if (stored := idempotency.replay(db, attempt)) is not None:
                return RecordOutcome("done", answer=json.loads(bytes(stored.body)), replayed=True)
            try:
                with db.session() as session:
                    answer = self.kind.handle(session, self.ctx, body)
                    idempotency.remember(session, attempt, answer)
                return RecordOutcome("done", answer=answer)
            except IntegrityError:
                # A twin delivery committed first (its answer is replayed above), or two first
                # messages raced to create the same row: retried, as the REST door does.
                if tries == 2:
                    raise
        raise AssertionError("unreachable")


def _dead(code: str, message: str, **details: Any) -> RecordOutcome:
    err: dict[str, Any] = {"code": code, "message": message}
    if details.get("details"):
        err["details"] = details["details"]
    if details.get("errors"):
        err["errors"] = details["errors"]
    return RecordOutcome("dead", error=err)


def dead_letter(raw: bytes, headers: dict[str, str], error: dict[str, Any], kind: str) -> dict[str, Any]:
    """The dead-letter record: the error and the original record (as text when it was not JSON)."""
    try:
        original: Any = json.loads(raw)
    except (ValueError, RecursionError):
        original = raw.decode("utf-8", "replace")
    return {"kind": kind, "error": error, "record": original, "headers": headers}
