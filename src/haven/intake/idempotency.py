"""`Idempotency-Key` on the intake routes (`POST /v1/content`, `/v1/messages`,
`/v1/hashes/lookup`): a retry after a lost response gets the same answer and creates nothing.

The answer is stored in the same transaction as the request's own writes, under the primary
key (integration, route, key). Two concurrent requests with one key both do their work; the
second to commit hits the primary key (PostgreSQL makes it wait for the first's commit; SQLite
serialises writers), its whole transaction rolls back, and it answers with the first one's
stored answer. The same key with another request is 409; answers are kept
`idempotency_ttl_seconds` (24 h), after which the key is free again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import delete
from sqlalchemy.orm import Session

from haven.core.auth import Principal
from haven.core.clock import now
from haven.core.db import Database
from haven.core.errors import Conflict, Invalid
from haven.intake.models import IdempotentAnswer

HEADER = "Idempotency-Key"
MAX_KEY = 200


@dataclass(frozen=True)
class Attempt:
    """One request that carries an `Idempotency-Key`."""

    integration_id: str
    route: str
    key: str
    fingerprint: str
    ttl_seconds: int


def fingerprint(*parts: bytes) -> str:
    """SHA-256 over the request's parts, each length-prefixed (no two splits collide)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def attempt(request: Request, principal: Principal, route: str, *parts: bytes) -> Attempt | None:
    """The request's attempt, or None without the header; 422 for a malformed key."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY or not all(0x21 <= ord(c) <= 0x7E for c in key):
        raise Invalid(
            f"{HEADER} must be 1 to {MAX_KEY} printable ASCII characters without spaces (a UUID is a good choice)",
            code="invalid_idempotency_key",
        )
    ttl = int(request.app.state.settings.idempotency_ttl_seconds)
    return Attempt(principal.integration_id, route, key, fingerprint(*parts), ttl)


def replay(db: Database, at: Attempt | None) -> JSONResponse | None:
    """The stored answer of this key, or None when there is none (or it expired); 409 when the
    key was used for another request."""
    if at is None:
        return None
    with db.reading() as s:
        row = s.get(IdempotentAnswer, (at.integration_id, at.route, at.key))
        if row is None or row.created_at < now() - timedelta(seconds=at.ttl_seconds):
            return None
        if row.fingerprint != at.fingerprint:
            raise Conflict(
                f"this {HEADER} was used for a different request in the last {at.ttl_seconds // 3600} h; "
                "use a new key for a new request",
                code="idempotency_key_reused",
                details={"key": at.key},
            )
        return JSONResponse(row.response, status_code=row.status_code, headers={"Idempotent-Replayed": "true"})


def remember(session: Session, at: Attempt | None, response: Any, status_code: int = 200) -> None:
    """Store the answer in the request's transaction; a concurrent twin that committed first
    makes this raise IntegrityError (the caller then answers with `replay`)."""
    if at is None:
        return
    cutoff = now() - timedelta(seconds=at.ttl_seconds)
    # An expired answer frees its key; this integration's other expired answers go too.
    session.execute(
        delete(IdempotentAnswer).where(
            IdempotentAnswer.integration_id == at.integration_id, IdempotentAnswer.created_at < cutoff
        )
    )
    session.add(
        IdempotentAnswer(
            integration_id=at.integration_id,
            route=at.route,
            key=at.key,
            fingerprint=at.fingerprint,
            status_code=status_code,
            response=jsonable_encoder(response),
        )
    )
    session.flush()
