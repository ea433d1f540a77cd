"""TOTP secrets sealed at rest: AES-256-GCM under the TOTP key of the settings
(`HAVEN_TOTP_KEY`, or derived from the quarantine key), bound to the staff member's id so a
sealed secret cannot be moved to another account. Stored as `v1.<base64url(nonce || ciphertext)>`.
"""

from __future__ import annotations

import base64

from haven.core.secretbox import open_bytes, seal_bytes

PREFIX = "v1."


def _keys(keys: list[bytes] | None) -> list[bytes]:
    if keys is not None:
        return keys
    from haven.core.settings import get_settings

    return get_settings().totp_keys()


def seal(staff_id: str, secret: str, keys: list[bytes] | None = None) -> str:
    """Seal a base32 TOTP secret under the current key."""
    return PREFIX + base64.urlsafe_b64encode(seal_bytes(secret, _keys(keys)[0], staff_id)).decode()


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def unseal(staff_id: str, value: str, keys: list[bytes] | None = None) -> str:
    """The TOTP secret of a sealed value, trying the current key then the previous ones."""
    if not is_sealed(value):
        raise ValueError("this TOTP secret is not sealed (run the migrations)")
    blob = base64.urlsafe_b64decode(value[len(PREFIX) :])
    for key in _keys(keys):
        opened = open_bytes(blob, key, staff_id)
        if opened is not None:
            return opened
    raise ValueError("no configured TOTP key opens this secret (HAVEN_TOTP_KEY / HAVEN_TOTP_PREVIOUS_KEYS)")


def reseal(staff_id: str, value: str, keys: list[bytes] | None = None) -> str | None:
    """The value sealed under the current key, or None when it already is."""
    ks = _keys(keys)
    if is_sealed(value) and open_bytes(base64.urlsafe_b64decode(value[len(PREFIX) :]), ks[0], staff_id) is not None:
        return None
    return seal(staff_id, unseal(staff_id, value, ks), ks)
