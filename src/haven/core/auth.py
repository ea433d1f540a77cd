"""Integrations and API keys for the `/v1` API.

A key looks like `hvn_<key id>_<secret>`. The secret has 256 bits of entropy, so a plain
SHA-256 is the right storage (a slow password hash would add latency to every call and no
security); comparison is constant-time. The key id lets us find the row without scanning.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.core.clock import now
from haven.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from haven.core.models import ApiKey, Integration

#: Every scope a key can carry, with what it allows. Capabilities add theirs here so that
#: `haven integration create --scopes` can validate names.
SCOPES: dict[str, str] = {
    "intake": "submit content, messages and user reports; look up hashes",
    "banks:read": "list banks and export their entries",
    "banks:write": "create, change and import banks",
    "accounts": "set account attributes (age band, terms acceptances)",
    "appeals": "file appeals on behalf of users",
    "reports": "read, draft and submit CyberTipline report cases (acts with the legal role)",
    "evidence": "list evidence objects and legal holds, place and release holds (never decrypt)",
    "legal": "record and follow law-enforcement requests",
    "exchanges:read": "list hash-sharing exchanges and their state",
    "exchanges:write": "configure exchanges, fetch now, queue feedback",
    "exchanges:feed": "read the signed Haven feed published to this partner",
    "privacy": "data-subject requests: access exports and erasures of accounts (haven.privacy)",
    "admin": "everything",
}

KEY_PREFIX = "hvn"

#: `live` keys act for real; `test` keys run the whole pipeline (screening, review, decisions,
#: webhooks, report cases) but never reach real exchanges, NCMEC production or payment actions,
#: and every answer and webhook says `"mode": "test"`.
MODES = ("live", "test")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of an API request."""

    integration_id: str
    integration_name: str
    key_id: str
    scopes: frozenset[str]
    mode: str = "live"

    @property
    def actor(self) -> str:
        return f"integration:{self.integration_id}"

    def require(self, scope: str) -> None:
        if scope not in self.scopes and "admin" not in self.scopes:
            raise Forbidden(
                f"this API key lacks the '{scope}' scope",
                code="missing_scope",
                details={"required": scope},
            )


def is_test_mode(principal: Principal | None) -> bool:
    """The one check of test mode. Anything that would reach the outside world for real (an
    exchange fetch or share, a CyberTipline production submission, a payment action) asks this
    of the principal that caused it, and for work done later by the worker, asks
    `integration_is_test` of the integration the traffic came from."""
    return principal is not None and principal.mode == "test"


def integration_is_test(session: Session, integration_ids: set[str] | list[str] | tuple[str, ...]) -> bool:
    """Whether any of these integrations is a test-mode one (traffic mixed with test traffic is
    treated as test: a test key must never cause a real report or action)."""
    ids = {i for i in integration_ids if i}
    if not ids:
        return False
    found = session.scalar(select(Integration.id).where(Integration.id.in_(ids), Integration.mode == "test").limit(1))
    return found is not None


def validate_mode(mode: str) -> str:
    if mode not in MODES:
        raise Invalid(f"unknown mode '{mode}'; known: {', '.join(MODES)}", code="unknown_mode")
    return mode


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def validate_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise Invalid(
            f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(sorted(SCOPES))}",
            code="unknown_scope",
        )
    return sorted(set(scopes))


def create_integration(session: Session, name: str, scopes: list[str], mode: str = "live") -> tuple[Integration, str]:
    """Create an integration with one key; return it and the full key, which is shown only once.
    A `test` integration's keys all act in test mode (`is_test_mode`)."""
    validate_mode(mode)
    if session.scalar(select(Integration).where(Integration.name == name)) is not None:
        raise Conflict(f"an integration named '{name}' exists", code="integration_exists")
    integration = Integration(name=name, scopes=validate_scopes(scopes), mode=mode)
    session.add(integration)
    session.flush()
    key = issue_key(session, integration)
    return integration, key


def issue_key(session: Session, integration: Integration) -> str:
    """Add a new key to an integration (for rotation) and return it."""
    secret = secrets.token_urlsafe(32)
    row = ApiKey(integration_id=integration.id, secret_sha256=_digest(secret), prefix="")
    session.add(row)
    session.flush()
    row.prefix = f"{KEY_PREFIX}_{row.id}"
    return f"{KEY_PREFIX}_{row.id}_{secret}"


def authenticate(session: Session, presented: str) -> Principal:
    """Resolve a presented key to its principal, or raise 401."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise Unauthorized("malformed API key", code="invalid_api_key")
    row = session.get(ApiKey, parts[1])
    ok = row is not None and hmac.compare_digest(row.secret_sha256, _digest(parts[2]))
    if not ok or row is None or row.revoked_at is not None:
        raise Unauthorized("unknown or revoked API key", code="invalid_api_key")
    integration = session.get(Integration, row.integration_id)
    if integration is None or integration.revoked_at is not None:
        raise Unauthorized("the integration of this key is revoked", code="invalid_api_key")
    return Principal(
        integration_id=integration.id,
        integration_name=integration.name,
        key_id=row.id,
        scopes=frozenset(integration.scopes),
        mode=integration.mode or "live",
    )


def list_integrations(session: Session) -> list[Integration]:
    return list(session.scalars(select(Integration).order_by(Integration.created_at)))


def keys_of(session: Session, integration_id: str) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(ApiKey.integration_id == integration_id)))


def find_integration(session: Session, name_or_id: str) -> Integration:
    row = session.get(Integration, name_or_id) or session.scalar(
        select(Integration).where(Integration.name == name_or_id)
    )
    if row is None:
        raise NotFound(f"no integration '{name_or_id}'", code="integration_not_found")
    return row


def revoke_integration(session: Session, name_or_id: str) -> Integration:
    """Revoke an integration and all its keys."""
    integration = find_integration(session, name_or_id)
    stamp = now()
    integration.revoked_at = stamp
    for key in keys_of(session, integration.id):
        if key.revoked_at is None:
            key.revoked_at = stamp
    return integration


def revoke_key(session: Session, key_id: str) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key '{key_id}'", code="api_key_not_found")
    row.revoked_at = row.revoked_at or now()
    return row
