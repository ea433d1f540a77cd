"""Pseudonymous staff identities for anything a user sees.

A statement of reasons, a notice or an appeal's answer says a person decided and which person
(so a user can refer to "the reviewer R-7KQ2MD" in a complaint and the service can find them),
but never a staff e-mail or name: reviewers of child-safety reports are exposed to retaliation.
The handle is a keyed hash of the staff id (HMAC-SHA256 under a key derived from the secrets key),
stable across decisions and not reversible by anyone without the key; staff with the key's
deployment can resolve it (`resolve`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from haven.core.settings import Settings, get_settings

PREFIX = "R-"


def reviewer_handle(staff_ref: str, settings: Settings | None = None) -> str:
    """`R-` and 6 base32 characters for `staff:<id>` (or a bare staff id)."""
    staff_id = staff_ref.split(":", 1)[1] if staff_ref.startswith("staff:") else staff_ref
    key = (settings or get_settings()).derived_key(b"haven reviewer handles v1")
    digest = hmac.new(key, staff_id.encode(), hashlib.sha256).digest()
    return PREFIX + base64.b32encode(digest).decode()[:6]


def handles(deciders: Iterable[str], settings: Settings | None = None) -> list[str]:
    """The handles of the staff among a decision's deciders (rules and systems are not people)."""
    return sorted({reviewer_handle(d, settings) for d in deciders if d.startswith("staff:")})


def resolve(handle: str, staff_ids: Iterable[str], settings: Settings | None = None) -> str | None:
    """The staff id a handle stands for, among `staff_ids` (for staff answering a complaint)."""
    for staff_id in staff_ids:
        if reviewer_handle(staff_id, settings) == handle:
            return staff_id
    return None
