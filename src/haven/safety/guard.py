"""Abuse protection of the anonymous report form, with no third-party service and no JavaScript.

- A signed form token (HMAC-SHA256 with a key derived from Haven's key) carries the time the form
  was served: a submission sooner than `form_min_seconds` (a script) or older than
  `form_max_age_seconds` is refused, and each token is accepted once (replays are refused).
- A honeypot field that people never see (hidden from screen readers too) must stay empty.
- Submissions per source address are limited per window (in this process, like sign-in limits).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque

from haven.core.settings import Settings
from haven.safety.config import safety_settings

_INFO = b"haven/safety/report-form/v1"
_lock = threading.Lock()
_used: dict[str, float] = {}
_hits: dict[str, deque[float]] = {}


def _key(settings: Settings) -> bytes:
    return settings.derived_key(_INFO)


def issue(settings: Settings, at: float | None = None) -> str:
    t = int(at if at is not None else time.time())
    body = f"{t}.{secrets.token_urlsafe(12)}"
    mac = hmac.new(_key(settings), body.encode(), hashlib.sha256).digest()[:16]
    return f"{body}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def check(settings: Settings, token: str, honeypot: str, at: float | None = None) -> str | None:
    """None when the submission may proceed, else the reason (a code) it is refused."""
    cfg = safety_settings()
    if honeypot:
        return "bot_suspected"
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        return "form_expired"
    body = f"{parts[0]}.{parts[1]}"
    mac = hmac.new(_key(settings), body.encode(), hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(base64.urlsafe_b64encode(mac).decode().rstrip("="), parts[2]):
        return "form_expired"
    now = at if at is not None else time.time()
    age = now - int(parts[0])
    if age < cfg.form_min_seconds:
        return "too_fast"
    if age > cfg.form_max_age_seconds:
        return "form_expired"
    with _lock:
        for k, exp in list(_used.items()):
            if exp < now:
                del _used[k]
        if body in _used:
            return "form_reused"
        _used[body] = now + cfg.form_max_age_seconds
    return None


def allow(source: str | None, at: float | None = None) -> bool:
    """Count one submission from `source`; False when it is over the limit for the window."""
    cfg = safety_settings()
    now = at if at is not None else time.time()
    with _lock:
        q = _hits.setdefault(source or "?", deque())
        while q and q[0] <= now - cfg.form_window_seconds:
            q.popleft()
        if len(q) >= cfg.form_per_ip:
            return False
        q.append(now)
        return True


def outcome_token(settings: Settings, report_id: str) -> str:
    """The secret part of a report's outcome link (report ids alone must not reveal outcomes)."""
    mac = hmac.new(_key(settings), f"outcome:{report_id}".encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def reset() -> None:
    with _lock:
        _used.clear()
        _hits.clear()
