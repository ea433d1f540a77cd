"""Actions delivered to the service by signed webhooks, through an outbox in the database.

Each action is a `Delivery` row (the outbox) and an `enforce.deliver` job, written in the same
transaction as the decision, so a delivery is never lost and never sent for a rolled-back
decision. The job POSTs the payload; on anything but 2xx it is retried with exponential
back-off and full jitter, and after the last attempt the delivery is dead-lettered, where an
operator can replay it. A worker killed mid-delivery leaves its job leased; when the lease
expires another worker retakes it, so the same request may arrive twice: the receiver must
honour the `Idempotency-Key` header, which is the same on every attempt and replay.

Request format (documented in docs/enforce.md):

    POST <endpoint>
    Content-Type: application/json
    Haven-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
    Idempotency-Key: <stable key of this action>
    Haven-Action: <action type>
    Haven-Delivery: <delivery id>

    {"id": <delivery id>, "type": <action type>, "idempotency_key": ..., "created_at": ..., "data": {...}}
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta
from typing import Any

import httpx
from prometheus_client import Counter
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from haven.core import outbound, secretbox
from haven.core.clock import new_id, now
from haven.core.db import Database
from haven.core.errors import Invalid, NotFound
from haven.core.jobs import RetryLater, backoff_seconds, enqueue, handler
from haven.core.ledger import audit, record_event
from haven.core.models import Job
from haven.core.settings import Settings
from haven.enforce.models import Delivery, WebhookEndpoint
from haven.enforce.settings import get_enforce_settings

log = logging.getLogger("haven.enforce.webhooks")

#: Every action type the service may receive.
ACTION_TYPES = frozenset(
    {
        "content.remove",
        "content.restore",
        "account.restrict",
        "account.suspend",
        "account.terminate",
        "account.reinstate",
        "notice.deliver",
        "tos.updated",
        "safety.nudge",
        # finance (docs/finance.md): a payment held, declined or released, a payee's payouts
        # frozen or unfrozen, a minor's new payees limited.
        "transaction.hold",
        "transaction.decline",
        "transaction.release",
        "account.freeze_payouts",
        "account.unfreeze_payouts",
        "account.limit_new_payees",
        "account.unlimit_new_payees",
    }
)
FEATURES = ("messaging", "uploads", "live", "payments")
SIGNATURE_HEADER = "Haven-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300
JOB_KIND = "enforce.deliver"

#: Attempts by action type and outcome (delivered, failed, dead), scraped at /metrics.
ATTEMPTS = Counter("haven_webhook_attempts_total", "Webhook delivery attempts", ["action", "outcome"])


# --- signing ----------------------------------------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The `Haven-Signature` header value for a body sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(
    secret: str, header: str, body: bytes, *, tolerance: int = SIGNATURE_TOLERANCE_SECONDS, at: float | None = None
) -> bool:
    """Check a `Haven-Signature` header as a receiver should: parse, recompute, compare in
    constant time, and refuse stale timestamps (replay protection). Several `v1=` values are
    accepted so a receiver can verify during a secret rotation."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        k, _, v = item.strip().partition("=")
        parts.setdefault(k, []).append(v)
    try:
        ts = int(parts["t"][0])
    except (KeyError, ValueError, IndexError):
        return False
    current = time.time() if at is None else at
    if abs(current - ts) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v) for v in parts.get("v1", []))


# --- endpoint configuration -------------------------------------------------------------------


def _secret_keys() -> list[bytes]:
    """The secrets keys, read from the environment on each call (a rotation needs no restart)."""
    return Settings().secrets_keys()


def _context(endpoint_id: str) -> str:
    return f"webhook_endpoints.secret:{endpoint_id}"


def seal_secret(endpoint_id: str, secret: str) -> str:
    return secretbox.seal(secret, _secret_keys()[0], _context(endpoint_id))


def open_secret(endpoint_id: str, stored: str) -> str:
    """The signing secret of a row (clear text rows from before sealing are read as they are)."""
    if not secretbox.is_sealed(stored):
        return stored
    return secretbox.unseal(stored, _secret_keys(), _context(endpoint_id))


def rewrap_secrets(session: Session) -> int:
    """Seal every endpoint secret under the current key (after a rotation); returns rows changed."""
    keys = _secret_keys()
    changed = 0
    for row in session.scalars(select(WebhookEndpoint)):
        if secretbox.needs_rewrap(row.secret, keys):
            row.secret = secretbox.seal(open_secret(row.id, row.secret), keys[0], _context(row.id))
            changed += 1
    return changed


def check_webhook_url(url: str) -> None:
    """Refuse a URL that is not http(s), carries credentials, or leads to a non-public address."""
    try:
        outbound.check_url(url)
    except outbound.BlockedAddress as exc:
        code = "blocked_webhook_url" if exc.code in ("blocked_address", "unresolvable") else "invalid_webhook_url"
        raise Invalid(f"webhook URL refused: {exc}", code=code) from None


def configure_endpoint(session: Session, *, url: str, secret: str, actor: str) -> WebhookEndpoint:
    """Set the service's endpoint and secret (replacing the previous one). The secret is sealed
    at rest (HAVEN_SECRETS_KEY) and never returned, logged or written to the ledger; the URL is
    written to the ledger with its query values redacted."""
    check_webhook_url(url)
    if len(secret) < 16:
        raise Invalid("the webhook secret must have at least 16 characters", code="weak_webhook_secret")
    session.execute(update(WebhookEndpoint).values(enabled=False))
    row_id = new_id()
    row = WebhookEndpoint(id=row_id, url=url, secret=seal_secret(row_id, secret), enabled=True, created_by=actor)
    session.add(row)
    session.flush()
    record_event(
        session,
        "webhook.configured",
        subject_type="webhook_endpoint",
        subject_id=row.id,
        actor=actor,
        data={"url": outbound.redact_url(url)},
    )
    audit(session, actor=actor, action="webhook.configure", object_type="webhook_endpoint", object_id=row.id)
    return row


def endpoint(session: Session) -> tuple[str, str] | None:
    """(url, secret) of the configured endpoint: the API's, else the settings', else None."""
    row = session.scalar(
        select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True)).order_by(WebhookEndpoint.created_at.desc())
    )
    if row is not None:
        return row.url, open_secret(row.id, row.secret)
    s = get_enforce_settings()
    if s.webhook_url and s.webhook_secret.get_secret_value():
        return s.webhook_url, s.webhook_secret.get_secret_value()
    return None


# --- the outbox -------------------------------------------------------------------------------


def deliver(
    session: Session,
    action_type: str,
    payload: dict[str, Any],
    *,
    subject_type: str,
    subject_id: str,
    actor: str,
    idempotency_key: str | None = None,
    decision_id: str | None = None,
    delay: float = 0.0,
) -> Delivery:
    """Queue an action for the service, in the caller's transaction.

    With an idempotency key already used, the existing delivery is returned and nothing new is
    sent: callers derive keys from what the action is about (decision and subject), so applying
    a decision twice never sends an action twice.
    """
    if action_type not in ACTION_TYPES:
        raise Invalid(f"unknown action type '{action_type}'", code="unknown_action_type")
    key = idempotency_key or new_id()
    existing = session.scalar(select(Delivery).where(Delivery.idempotency_key == key))
    if existing is not None:
        return existing
    row = Delivery(
        id=new_id(),
        action_type=action_type,
        idempotency_key=key,
        payload=payload,
        subject_type=subject_type,
        subject_id=subject_id,
        decision_id=decision_id,
        status="pending",
        max_attempts=get_enforce_settings().webhook_max_attempts,
        next_attempt_at=now() + timedelta(seconds=delay),
    )
    session.add(row)
    session.flush()
    enqueue(
        session, JOB_KIND, {"delivery_id": row.id}, dedupe_key=f"deliver:{row.id}:0", delay=delay, max_attempts=1000
    )
    record_event(
        session,
        "webhook.queued",
        subject_type=subject_type,
        subject_id=subject_id,
        actor=actor,
        data={"delivery_id": row.id, "action": action_type, "decision_id": decision_id},
    )
    return row


def envelope(row: Delivery) -> bytes:
    """The exact bytes sent (stable across attempts, so the signature covers the same body)."""
    body = {
        "id": row.id,
        "type": row.action_type,
        "idempotency_key": row.idempotency_key,
        "created_at": row.created_at.isoformat().replace("+00:00", "Z"),
        "data": row.payload,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def send(url: str, secret: str, row: Delivery, *, timeout: float) -> httpx.Response:
    """POST one delivery (the real client; tests point it at a receiver on loopback)."""
    body = envelope(row)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret, body, int(now().timestamp())),
        "Idempotency-Key": row.idempotency_key,
        "Haven-Action": row.action_type,
        "Haven-Delivery": row.id,
        "User-Agent": "Haven-Webhooks/1",
    }
    with outbound.guarded_client(timeout=timeout) as client:
        return client.post(url, content=body, headers=headers)


#: A delivery is one POST with a timeout of HAVEN_WEBHOOK_TIMEOUT_SECONDS (10 s): a minute's lease
#: (renewed while it runs) means a killed worker's delivery is retaken within a minute.
DELIVERY_LEASE_SECONDS = 60.0


@handler(JOB_KIND, lease_seconds=DELIVERY_LEASE_SECONDS)
def _run_delivery(db: Database, job: Job) -> None:
    """Attempt one delivery. Success and dead-lettering end the job; a failure reschedules it."""
    settings = get_enforce_settings()
    with db.session() as s:
        row = s.get(Delivery, job.payload["delivery_id"])
        if row is None or row.status != "pending":
            return
        target = endpoint(s)
        row.attempts += 1
        attempt = row.attempts
        snapshot = Delivery(
            id=row.id,
            action_type=row.action_type,
            idempotency_key=row.idempotency_key,
            payload=row.payload,
            created_at=row.created_at,
        )
    status: int | None = None
    error: str | None = None  # a category (outbound.CATEGORIES), never the raw connection error
    if target is None:
        error = "no_endpoint"
    else:
        try:
            resp = send(target[0], target[1], snapshot, timeout=settings.webhook_timeout_seconds)
            status = resp.status_code
            if not 200 <= status < 300:
                error = "http_status"
        except httpx.HTTPError as exc:
            error = outbound.failure_category(exc)
    with db.session() as s:
        row = s.get(Delivery, snapshot.id)
        if row is None:
            return
        row.last_status = status
        row.last_error = error
        outcome = "delivered" if error is None else ("dead" if attempt >= row.max_attempts else "failed")
        ATTEMPTS.labels(row.action_type, outcome).inc()
        if error is None:
            row.status = "delivered"
            row.delivered_at = now()
            row.next_attempt_at = None
            record_event(
                s,
                "webhook.delivered",
                subject_type=row.subject_type,
                subject_id=row.subject_id,
                actor="system:haven",
                data={"delivery_id": row.id, "action": row.action_type, "attempts": attempt},
            )
            return
        log.warning(
            "webhook delivery failed",
            extra={"delivery": row.id, "attempt": attempt, "status": status, "category": error},
        )
        if attempt >= row.max_attempts:
            row.status = "dead"
            row.next_attempt_at = None
            record_event(
                s,
                "webhook.dead_lettered",
                subject_type=row.subject_type,
                subject_id=row.subject_id,
                actor="system:haven",
                data={"delivery_id": row.id, "action": row.action_type, "attempts": attempt, "error": error},
            )
            return
        delay = backoff_seconds(attempt, settings.webhook_backoff_base_seconds, settings.webhook_backoff_cap_seconds)
        row.next_attempt_at = now() + timedelta(seconds=delay)
    raise RetryLater(error, delay)


def dead_letters(session: Session, limit: int = 100) -> list[Delivery]:
    return list(
        session.scalars(select(Delivery).where(Delivery.status == "dead").order_by(Delivery.created_at).limit(limit))
    )


def list_deliveries(session: Session, status: str | None = None, limit: int = 100) -> list[Delivery]:
    q = select(Delivery).order_by(Delivery.created_at.desc()).limit(limit)
    if status:
        q = q.where(Delivery.status == status)
    return list(session.scalars(q))


def replay(session: Session, delivery_id: str, *, actor: str) -> Delivery:
    """Send a dead-lettered delivery again (same body and idempotency key, fresh attempts)."""
    row = session.get(Delivery, delivery_id)
    if row is None:
        raise NotFound(f"no delivery '{delivery_id}'", code="delivery_not_found")
    if row.status != "dead":
        raise Invalid(f"delivery {delivery_id} is {row.status}; only dead letters are replayed", code="not_dead")
    row.status = "pending"
    row.attempts = 0
    row.replays += 1
    row.next_attempt_at = now()
    enqueue(session, JOB_KIND, {"delivery_id": row.id}, dedupe_key=f"deliver:{row.id}:{row.replays}", max_attempts=1000)
    record_event(
        session,
        "webhook.replayed",
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        actor=actor,
        data={"delivery_id": row.id, "action": row.action_type, "replay": row.replays},
    )
    audit(session, actor=actor, action="webhook.replay", object_type="webhook_delivery", object_id=row.id)
    return row
