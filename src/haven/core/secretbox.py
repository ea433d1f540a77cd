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


def seal(plaintext: str, key: bytes, context: str) -> str:
    nonce = os.urandom(12)
    blob = nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
    return f"{PREFIX}{key_id(key)}:{base64.b64encode(blob).decode()}"


def unseal(value: str, keys: list[bytes], context: str) -> str:
    """Open a sealed value with whichever of `keys` sealed it."""
    if not is_sealed(value):
        raise SecretError("the value is not sealed")
    kid, _, b64 = value[len(PREFIX) :].partition(":")
    blob = base64.b64decode(b64)
    for key in keys:
        if key_id(key) == kid:
            try:
                return AESGCM(key).decrypt(blob[:12], blob[12:], context.encode()).decode()
            except InvalidTag:
                break
    raise SecretError("no configured secrets key opens this value (HAVEN_SECRETS_KEY / HAVEN_SECRETS_OLD_KEYS)")


def needs_rewrap(value: str, keys: list[bytes]) -> bool:
    """Clear text, or sealed under a key other than the current one."""
    return not is_sealed(value) or not value.startswith(f"{PREFIX}{key_id(keys[0])}:")
