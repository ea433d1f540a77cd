"""The Haven feed: an open, signed JSON-lines format in which one Haven publishes the hashes its
reviewers confirmed and another subscribes to them (docs/exchange.md has the full spec).

A page is lines of JSON objects:

    {"type": "header", "format": "haven-feed/1", "publisher": ..., "key_id": ..., "public_key": ...}
    {"type": "entry", "seq": "<cursor>", "id": ..., "op": "add"|"delete", "signal_type": ...,
     "value": ..., "classification": ..., "confidence": "confirmed", "labels": [...],
     "list": ..., "publisher": ..., "published_at": ..., "expires_at": ..., "sig": ...}
    {"type": "end", "next_after": "<cursor>", "has_more": true|false}

Every entry is signed on its own with Ed25519 over its canonical JSON without `sig` (keys
sorted, no spaces, UTF-8), so an entry can be relayed and checked anywhere. Subscribers pin the
publisher's public key: a page signed by another key, or with one entry whose signature does
not verify, is refused whole; an entry past its `expires_at` is never added (and disables the
copy a subscriber holds).

Pure: signing, verifying and parsing; the publisher's queries are in `haven.exchange.publish`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from haven.exchange import http
from haven.exchange.base import ExchangeError, FeedbackItem, Page, UpstreamEntry

KIND = "haven_feed"
FORMAT = "haven-feed/1"
MAX_LINE = 8192


def canonical(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(pub.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def key_id(public_b64: str) -> str:
    return hashlib.sha256(base64.b64decode(public_b64)).hexdigest()[:16]


def signing_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed[:32])


def sign_entry(entry: Mapping[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    body = {k: v for k, v in entry.items() if k != "sig"}
    return {**body, "sig": base64.b64encode(key.sign(canonical(body))).decode()}


def verify_entry(entry: Mapping[str, Any], public: Ed25519PublicKey) -> bool:
    sig = entry.get("sig")
    if not isinstance(sig, str):
        return False
    try:
        public.verify(base64.b64decode(sig), canonical({k: v for k, v in entry.items() if k != "sig"}))
    except (InvalidSignature, ValueError):
        return False
    return True


def render_page(
    *,
    publisher: str,
    key: Ed25519PrivateKey,
    entries: Iterable[Mapping[str, Any]],
    next_after: str,
    has_more: bool,
) -> str:
    pub = public_key_b64(key)
    lines = [
        json.dumps(
            {"type": "header", "format": FORMAT, "publisher": publisher, "key_id": key_id(pub), "public_key": pub}
        )
    ]
    lines += [json.dumps(sign_entry({"type": "entry", **e}, key)) for e in entries]
    lines.append(json.dumps({"type": "end", "next_after": next_after, "has_more": has_more}))
    return "\n".join(lines) + "\n"


def _parse_time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        raise ExchangeError(f"'{str(value)[:40]}' is not an ISO 8601 time", code="malformed_response") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def parse_page(body: bytes, pinned_public_b64: str, *, now: datetime) -> tuple[list[UpstreamEntry], str, bool, int]:
    """Verified entries, the next cursor, whether more follow, and how many expired entries were
    turned into removals. Raises `ExchangeError` (`malformed_response`, `key_mismatch`,
    `signature_invalid`) and applies nothing of a page that fails."""
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(pinned_public_b64))
    except ValueError:
        raise ExchangeError("the pinned public key is not a base64 Ed25519 key", code="invalid_config") from None
    try:
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
    except (UnicodeDecodeError, ValueError) as exc:
        raise ExchangeError(f"the feed is not JSON lines: {exc}", code="malformed_response") from None
    if not lines or not isinstance(lines[0], dict) or lines[0].get("type") != "header":
        raise ExchangeError("the feed page does not start with a header line", code="malformed_response")
    header = lines[0]
    if header.get("format") != FORMAT:
        raise ExchangeError(f"unknown feed format '{header.get('format')}'", code="malformed_response")
    if header.get("key_id") != key_id(pinned_public_b64):
        raise ExchangeError("the feed is signed with a key other than the pinned one", code="key_mismatch")
    end = lines[-1]
    if not isinstance(end, dict) or end.get("type") != "end" or len(lines) < 2:
        raise ExchangeError("the feed page is truncated (no end line)", code="malformed_response")
    entries: list[UpstreamEntry] = []
    expired = 0
    for n, obj in enumerate(lines[1:-1], start=2):
        if not isinstance(obj, dict) or obj.get("type") != "entry":
            raise ExchangeError(f"line {n} is not an entry", code="malformed_response")
        if not verify_entry(obj, public):
            raise ExchangeError(f"line {n}: the signature does not verify (tampered entry)", code="signature_invalid")
        for f in ("id", "op", "signal_type", "value"):
            if not isinstance(obj.get(f), str):
                raise ExchangeError(f"line {n} lacks '{f}'", code="malformed_response")
        if obj["op"] not in ("add", "delete"):
            raise ExchangeError(f"line {n}: unknown op '{obj['op']}'", code="malformed_response")
        expires = _parse_time(obj.get("expires_at"))
        gone = obj["op"] == "delete"
        if not gone and expires is not None and expires <= now:
            expired += 1
            gone = True
        entries.append(
            UpstreamEntry(
                upstream_id=obj["id"],
                upstream_type=obj["signal_type"],
                value=obj["value"],
                list_name=str(obj.get("list") or "*"),
                deleted=gone,
                contributor=str(obj.get("publisher") or header.get("publisher") or ""),
                classification=obj.get("classification"),
                labels=(*(str(x) for x in obj.get("labels") or ()), f"confidence:{obj.get('confidence')}"),
                expires_at=expires,
            )
        )
    return entries, str(end.get("next_after") or ""), bool(end.get("has_more")), expired


class HavenFeedConnector:
    """Subscribe to another Haven's feed: `GET {base}/v1/exchanges/feed?after=&limit=` with the
    partner API key it issued (scope `exchanges:feed`)."""

    kind = KIND

    def __init__(self, base_url: str, credentials: Mapping[str, str], config: Mapping[str, Any]) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = str(credentials.get("api_key", ""))
        self.public_key = str(config.get("public_key", ""))
        self.page_size = int(config.get("page_size", 1000))
        if not self.api_key:
            raise ExchangeError("a Haven feed needs the api_key its publisher issued", code="missing_credentials")
        if not self.public_key:
            raise ExchangeError("a Haven feed needs the publisher's public_key pinned", code="invalid_config")

    def fetch_page(self, checkpoint: Mapping[str, Any]) -> Page:
        after = str(checkpoint.get("after") or "")
        body = http.request(
            "GET",
            f"{self.base_url}/v1/exchanges/feed",
            params={"after": after, "limit": self.page_size},
            headers={"Authorization": f"Bearer {self.api_key}"},
        )
        entries, next_after, has_more, expired = parse_page(body, self.public_key, now=datetime.now(UTC))
        return Page(entries, {"after": next_after or after}, has_more=has_more, skipped=expired)

    def submit_feedback(self, item: FeedbackItem) -> None:
        from haven.exchange.base import FeedbackUnsupported

        raise FeedbackUnsupported("the Haven feed format has no feedback channel yet (v1)")
