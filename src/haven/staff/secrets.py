"""TOTP secrets sealed at rest: AES-256-GCM under the TOTP key of the settings
(`HAVEN_TOTP_KEY`, or derived from the quarantine key), bound to the staff member's id so a
sealed secret cannot be moved to another account. Stored as `v1.<base64url(nonce || ciphertext)>`.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1."
NONCE_BYTES = 12


def _keys(keys: list[bytes] | None) -> list[bytes]:
    if keys is not None:
        return keys
    from haven.core.settings import get_settings

    return get_settings().totp_keys()


def seal(staff_id: str, secret: str, keys: list[bytes] | None = None) -> str:
    """Seal a base32 TOTP secret under the current key."""
    nonce = os.urandom(NONCE_BYTES)
    blob = nonce + AESGCM(_keys(keys)[0]).encrypt(nonce, secret.encode(), staff_id.encode())
    return PREFIX + base64.urlsafe_b64encode(blob).decode()


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def unseal(staff_id: str, value: str, keys: list[bytes] | None = None) -> str:
    """The TOTP secret of a sealed value, trying the current key then the previous ones."""
    if not is_sealed(value):
        raise ValueError("this TOTP secret is not sealed (run the migrations)")
    blob = base64.urlsafe_b64decode(value[len(PREFIX) :])
    for key in _keys(keys):
        try:
            return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], staff_id.encode()).decode()
        except InvalidTag:
            continue
    raise ValueError("no configured TOTP key opens this secret (HAVEN_TOTP_KEY / HAVEN_TOTP_PREVIOUS_KEYS)")


def reseal(staff_id: str, value: str, keys: list[bytes] | None = None) -> str | None:
    """The value sealed under the current key, or None when it already is."""
    ks = _keys(keys)
    secret = unseal(staff_id, value, ks)
    blob = base64.urlsafe_b64decode(value[len(PREFIX) :])
    try:
        AESGCM(ks[0]).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], staff_id.encode())
        return None
    except InvalidTag:
        return seal(staff_id, secret, ks)
