"""Actions delivered to the service by signed webhooks, through an outbox in the database.

Each action is a `Delivery` row (the outbox) and an `enforce.deliver` job, written in the same
transaction as the decision, so a delivery is never lost and never sent for a rolled-back
decision. The job POSTs the payload; on anything but 2xx it is retried with exponential
back-off and full jitter, and after the last attempt the delivery is dead-lettered, where an
operator can replay it. A worker killed mid-delivery leaves its job leased; when the lease
expires another worker retakes it, so the same request may arrive twice: the receiver must
honour the `Idempotency-Key` header, which is the same on every attempt and replay.

Requests are signed per the Standard Webhooks specification (standardwebhooks.com), so a
receiver verifies them with that project's library in its own language. Request format
(documented in docs/enforce.md and docs/integration.md):

    POST <endpoint>
    Content-Type: application/json
    webhook-id: <delivery id, the same on every attempt and replay>
    webhook-timestamp: <unix seconds of this attempt>
    webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")> [v1,<...previous secret>]
    Haven-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>   (deprecated)
    Idempotency-Key: <stable key of this action>
    Haven-Action: <action type>
    Haven-Delivery: <delivery id>

    {"id": <delivery id>, "type": <action type>, "idempotency_key": ..., "created_at": ..., "data": {...}}

An action about traffic of a test-mode key carries `"mode": "test"` in `data`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import timedelta
from typing import Any

import httpx
from prometheus_client import Counter
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from haven.core import outbound, secretbox, tracing
from haven.core.clock import new_id, now
from haven.core.db import Database
from haven.core.errors import Invalid, NotFound
from haven.core.jobs import RetryLater, backoff_seconds, enqueue, handler
from haven.core.ledger import audit, record_event
from haven.core.models import Job
from haven.core.settings import Settings
from haven.enforce.models import Delivery, EnforcementDecision, WebhookEndpoint
from haven.enforce.settings import get_enforce_settings
from haven.screening.mode import traffic_is_test

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
        # youth: age assurance, protections and guardian controls (docs/youth.md)
        "age.reassurance_requested",
        "youth.protections_changed",
        "guardian.approval_requested",
        "guardian.approval_answered",
        "guardian.digest",
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
#: What each action type did, as a person reads it (the console's "what followed", never the id).
ACTION_LABELS: dict[str, str] = {
    "content.remove": "content removed",
    "content.restore": "content restored",
    "account.restrict": "account restricted",
    "account.suspend": "account suspended",
    "account.terminate": "account terminated",
    "account.reinstate": "account reinstated",
    "notice.deliver": "notice to the user",
    "tos.updated": "terms of service updated",
    "safety.nudge": "safety message to the user",
    "age.reassurance_requested": "age re-check requested",
    "youth.protections_changed": "young person's protections changed",
    "guardian.approval_requested": "guardian's approval requested",
    "guardian.approval_answered": "guardian's answer",
    "guardian.digest": "guardian's weekly summary",
    "transaction.hold": "payment held",
    "transaction.decline": "payment declined",
    "transaction.release": "payment released",
    "account.freeze_payouts": "payouts frozen",
    "account.unfreeze_payouts": "payouts unfrozen",
    "account.limit_new_payees": "new payees limited",
    "account.unlimit_new_payees": "new payees no longer limited",
}


def action_label(action_type: str) -> str:
    """The human label of an action type (the type itself for one not in the table)."""
    return ACTION_LABELS.get(action_type, action_type)


FEATURES = ("messaging", "uploads", "live", "payments")
#: Deprecated (kept for one release beside the Standard Webhooks headers): Stripe-like signature.
SIGNATURE_HEADER = "Haven-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300
#: Standard Webhooks: secrets are `whsec_` + base64 of 24 to 64 random bytes (Haven makes 32).
SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
#: How long the replaced secret keeps signing after a rotation, unless the rotation says otherwise.
ROTATION_GRACE = timedelta(hours=24)
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


def generate_secret() -> str:
    """A new Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret: the base64-decoded bytes of a `whsec_` secret, as every Standard
    Webhooks library reads it. A secret set before `whsec_` (any 16+ characters) is used as its
    UTF-8 bytes: receivers pass those bytes to the library (`Webhook(secret.encode())`)."""
    if secret.startswith(SECRET_PREFIX):
        return base64.b64decode(secret[len(SECRET_PREFIX) :] + "==")
    return secret.encode()


def check_secret(secret: str) -> None:
    """Refuse a secret a receiver could not use or that is too weak to sign with."""
    if secret.startswith(SECRET_PREFIX):
        text = secret[len(SECRET_PREFIX) :].rstrip("=")
        try:
            key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise Invalid("a whsec_ secret must be base64 after the prefix", code="invalid_webhook_secret") from None
        if not 24 <= len(key) <= 64:
            raise Invalid("a whsec_ secret must hold 24 to 64 bytes", code="weak_webhook_secret")
    elif len(secret) < 16:
        raise Invalid("the webhook secret must have at least 16 characters", code="weak_webhook_secret")


def standard_signature(secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one `v1,<base64>` per active secret, space-separated."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(secret_key(s), signed, hashlib.sha256).digest()).decode() for s in secrets_
    )


def standard_headers(secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one request."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(secrets_, msg_id, timestamp, body),
    }


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
        if row.previous_secret and secretbox.needs_rewrap(row.previous_secret, keys):
            row.previous_secret = secretbox.seal(open_secret(row.id, row.previous_secret), keys[0], _context(row.id))
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
    written to the ledger with its query values redacted. `generate_secret()` makes a good one."""
    check_webhook_url(url)
    check_secret(secret)
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
    resume_waiting(session, reason=row.id)
    return row


_told_no_endpoint: list[bool] = []


def resume_waiting(session: Session, *, reason: str) -> int:
    """Queue again every action that waited for an endpoint (in the caller's transaction); the
    dedupe key carries `reason` (the new endpoint's id, or "start"), so each is queued once per
    configuration. Called when an endpoint is configured and when a worker starts."""
    waiting = list(
        session.scalars(select(Delivery.id).where(Delivery.status == "pending", Delivery.last_error == "no_endpoint"))
    )
    for delivery_id in waiting:
        enqueue(
            session,
            JOB_KIND,
            {"delivery_id": delivery_id},
            dedupe_key=f"deliver:{delivery_id}:resume:{reason}",
            max_attempts=1000,
        )
    if waiting:
        _told_no_endpoint.clear()
        log.info("webhook actions resumed", extra={"count": len(waiting)})
    return len(waiting)


def resume_on_start(db: Database) -> None:
    """At worker start: if an endpoint exists now (HAVEN_WEBHOOK_URL set since), send what waited."""
    with db.session() as s:
        if endpoint_secrets(s) is not None:
            resume_waiting(s, reason=f"start:{new_id()}")


def _current_row(session: Session) -> WebhookEndpoint | None:
    return session.scalar(
        select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True)).order_by(WebhookEndpoint.created_at.desc())
    )


def rotate_secret(
    session: Session, *, actor: str, new_secret: str | None = None, grace: timedelta = ROTATION_GRACE
) -> tuple[WebhookEndpoint, str]:
    """Replace the endpoint's secret and keep the old one signing for `grace`, so the receiver
    can switch at its own pace: during the grace every request carries two `v1,` signatures.
    Returns the row and the new secret (shown once)."""
    row = _current_row(session)
    if row is None:
        raise NotFound("no webhook endpoint is configured through the API", code="webhook_not_configured")
    secret = new_secret or generate_secret()
    check_secret(secret)
    old = open_secret(row.id, row.secret)
    row.previous_secret = seal_secret(row.id, old) if grace.total_seconds() > 0 else None
    row.previous_until = now() + grace if grace.total_seconds() > 0 else None
    row.secret = seal_secret(row.id, secret)
    record_event(
        session,
        "webhook.secret_rotated",
        subject_type="webhook_endpoint",
        subject_id=row.id,
        actor=actor,
        data={"previous_until": row.previous_until.isoformat() if row.previous_until else None},
    )
    audit(session, actor=actor, action="webhook.rotate_secret", object_type="webhook_endpoint", object_id=row.id)
    return row, secret


def endpoint_secrets(session: Session) -> tuple[str, list[str]] | None:
    """(url, active secrets, current first) of the configured endpoint: the API's, else the
    settings', else None. A rotated-out secret is active until its `previous_until`."""
    row = _current_row(session)
    if row is not None:
        active = [open_secret(row.id, row.secret)]
        if row.previous_secret and row.previous_until and row.previous_until > now():
            active.append(open_secret(row.id, row.previous_secret))
        return row.url, active
    s = get_enforce_settings()
    if s.webhook_url and s.webhook_secret.get_secret_value():
        return s.webhook_url, [s.webhook_secret.get_secret_value()]
    return None


def endpoint(session: Session) -> tuple[str, str] | None:
    """(url, current secret) of the configured endpoint, or None."""
    target = endpoint_secrets(session)
    return (target[0], target[1][0]) if target else None


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
    if _about_test_traffic(session, subject_type, subject_id, decision_id):
        payload = {**payload, "mode": "test"}
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


def _about_test_traffic(session: Session, subject_type: str, subject_id: str, decision_id: str | None) -> bool:
    """Whether an action is about traffic of a test-mode key: its payload then says
    `"mode": "test"`, so the service's receiver can tell a test action from a real one."""
    content_ids: list[str] = [subject_id] if subject_type == "content" else []
    conversations: list[str] = [subject_id] if subject_type == "conversation" else []
    if decision_id:
        decision = session.get(EnforcementDecision, decision_id)
        if decision is not None:
            content_ids += list(decision.content_ids or [])
            if decision.subject_type == "content":
                content_ids.append(decision.subject_id)
            elif decision.subject_type == "conversation":
                conversations.append(decision.subject_id)
    return traffic_is_test(session, content_ids=content_ids, conversation_ids=conversations)


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


def send(url: str, secret: str | list[str], row: Delivery, *, timeout: float) -> httpx.Response:
    """POST one delivery (the real client; tests point it at a receiver on loopback), signed with
    every active secret (current first)."""
    body = envelope(row)
    active = [secret] if isinstance(secret, str) else secret
    ts = int(now().timestamp())
    headers = {
        "Content-Type": "application/json",
        **standard_headers(active, row.id, ts, body),
        SIGNATURE_HEADER: ",".join([sign(active[0], body, ts), *(sign(x, body, ts).split(",")[1] for x in active[1:])]),
        "Idempotency-Key": row.idempotency_key,
        "Haven-Action": row.action_type,
        "Haven-Delivery": row.id,
        "User-Agent": "Haven-Webhooks/1",
    }
    with (
        tracing.span(
            "webhook.deliver",
            kind=tracing.SpanKind.CLIENT,
            delivery_id=row.id,
            action=row.action_type,
            signatures=len(active),
        ) as sp,
        outbound.guarded_client(timeout=timeout) as client,
    ):
        resp = client.post(url, content=body, headers=tracing.inject_headers(headers))
        sp.set_attribute("http.response.status_code", resp.status_code)
        return resp


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
        target = endpoint_secrets(s)
        if target is None:
            # Nobody to send to: the action waits in the outbox without an attempt (none is
            # counted towards dead-lettering), and is sent when an endpoint is configured
            # (`resume_waiting`). Said once per process, not once per action.
            row.last_error = "no_endpoint"
            row.next_attempt_at = None
            if not _told_no_endpoint:
                _told_no_endpoint.append(True)
                log.warning(
                    "webhook actions wait in the outbox: no endpoint is configured "
                    "(PUT /v1/webhook or HAVEN_WEBHOOK_URL); they are sent once one is"
                )
            return
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
