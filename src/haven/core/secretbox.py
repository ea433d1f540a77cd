"""Short secrets kept in database columns, sealed with AES-256-GCM under `HAVEN_SECRETS_KEY`.

A sealed value is the text `sealed:v1:<key id>:<base64(nonce || ciphertext+tag)>`, where the key
id is the first 8 hex digits of SHA-256 of the key (so the right key is picked during a
rotation) and the column's purpose and row id are bound as associated data (a sealed secret
cannot be copied into another row). Values without the prefix are clear text from before
sealing; `is_sealed` tells them apart for the migration and `haven webhook rewrap`.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "sealed:v1:"


class SecretError(ValueError):
    """A sealed value that no configured key opens."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


NONCE_BYTES = 12


def seal_bytes(plaintext: str, key: bytes, context: str) -> bytes:
    """nonce || AES-256-GCM(plaintext) with `context` as associated data: the one sealing primitive
    for short secrets (webhook secrets here, staff TOTP secrets in `haven.staff.secrets`)."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())


def open_bytes(blob: bytes, key: bytes, context: str) -> str | None:
    """The plaintext of `seal_bytes`' output under `key`, or None when `key` did not seal it."""
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode()).decode()
    except InvalidTag:
        return None


def seal(plaintext: str, key: bytes, context: str) -> str:
    return f"{PREFIX}{key_id(key)}:{base64.b64encode(seal_bytes(plaintext, key, context)).decode()}"


def unseal(value: str, keys: list[bytes], context: str) -> str:
    """Open a sealed value with whichever of `keys` sealed it."""
    if not is_sealed(value):
        raise SecretError("the value is not sealed")
    kid, _, b64 = value[len(PREFIX) :].partition(":")
    blob = base64.b64decode(b64)
    for key in keys:
        if key_id(key) == kid:
            opened = open_bytes(blob, key, context)
            if opened is not None:
                return opened
            break
    raise SecretError("no configured secrets key opens this value (HAVEN_SECRETS_KEY / HAVEN_SECRETS_OLD_KEYS)")


def needs_rewrap(value: str, keys: list[bytes]) -> bool:
    """Clear text, or sealed under a key other than the current one."""
    return not is_sealed(value) or not value.startswith(f"{PREFIX}{key_id(keys[0])}:")
