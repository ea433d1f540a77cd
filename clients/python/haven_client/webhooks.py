"""Verify a webhook from Haven: the Standard Webhooks scheme (standardwebhooks.com).

Haven signs `<webhook-id>.<webhook-timestamp>.<raw body>` with HMAC-SHA256 under the key in the
`whsec_` secret (base64 after the prefix) and sends `webhook-signature: v1,<base64> [v1,<...>]`
(two values during a secret rotation). This is the same check as the `standardwebhooks`
library's `Webhook(secret).verify(body, headers)`, without the dependency.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix)
TOLERANCE_SECONDS = 300


class WebhookVerificationError(Exception):
    """The request is not a fresh, authentic webhook from Haven: answer 400 and do nothing."""


def _key(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        return secret
    if secret.startswith(SECRET_PREFIX):
        text = secret[len(SECRET_PREFIX) :].rstrip("=")
        return base64.b64decode(text + "=" * (-len(text) % 4))
    return secret.encode()  # a secret from before whsec_: its UTF-8 bytes


def verify_webhook(
    secret: str | bytes,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> Any:
    """Check the signature and freshness of one request; return the parsed JSON body.

    Pass the raw body exactly as received (not re-serialised JSON). Raises
    WebhookVerificationError when a header is missing, the timestamp is more than `tolerance`
    seconds off (replay protection), or no `v1,` signature matches.
    """
    h = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp, signatures = h.get("webhook-id"), h.get("webhook-timestamp"), h.get("webhook-signature")
    if not (msg_id and stamp and signatures):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        ts = int(stamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a number") from None
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        raise WebhookVerificationError("webhook-timestamp is too old or too new")
    raw = body.encode() if isinstance(body, str) else body
    expected = hmac.new(_key(secret), f"{msg_id}.{ts}.".encode() + raw, hashlib.sha256).digest()
    for item in signatures.split(" "):
        version, _, value = item.partition(",")
        if version != "v1":
            continue
        try:
            given = base64.b64decode(value)
        except ValueError:
            continue
        if hmac.compare_digest(expected, given):
            return json.loads(raw)
    raise WebhookVerificationError("no matching signature")
