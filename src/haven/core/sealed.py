"""Files sealed with AES-256-GCM: the one format of Haven's encrypted stores (the intake
quarantine and the evidence vault).

A file is `nonce (12 bytes) || ciphertext+tag`, with the object's id bound as associated data so
a file cannot be swapped for another object's. `seal`/`unseal` make and open that blob; where it
is kept (a 0600 file on disk, an object in a bucket) is `haven.core.storage`'s business, so the
store only ever sees ciphertext.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from haven.core.storage import FILE_MODE, write_private

NONCE_BYTES = 12
__all__ = ["FILE_MODE", "read_sealed", "seal", "unseal", "write_sealed"]


def seal(key: bytes, data: bytes, object_id: str) -> bytes:
    """Encrypt `data` under `key`, bound to `object_id`: the bytes a store keeps."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, data, object_id.encode())


def unseal(blob: bytes, key: bytes, object_id: str) -> bytes:
    """Decrypt a sealed blob; raises `cryptography.exceptions.InvalidTag` if it was altered,
    swapped or sealed under another key."""
    return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], object_id.encode())


def write_sealed(path: Path, key: bytes, data: bytes, object_id: str) -> None:
    """Encrypt `data` under `key` and write it to `path` atomically (0600)."""
    write_private(path, seal(key, data, object_id))


def read_sealed(path: Path, key: bytes, object_id: str) -> bytes:
    """Decrypt a sealed file."""
    return unseal(path.read_bytes(), key, object_id)
