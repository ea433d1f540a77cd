"""Files sealed with AES-256-GCM: the one format of Haven's encrypted stores (the intake
quarantine and the evidence vault).

A file is `nonce (12 bytes) || ciphertext+tag`, with the object's id bound as associated data so
a file cannot be swapped for another object's. Writes are atomic (temp file, fsync, rename) and
the files are readable by their owner only (0600), whatever the process umask.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
#: Sealed files are the owner's alone (the ciphertext still tells its size and existence).
FILE_MODE = 0o600


def write_sealed(path: Path, key: bytes, data: bytes, object_id: str) -> None:
    """Encrypt `data` under `key` and write it to `path` atomically."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, data, object_id.encode())
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # an existing temp file keeps its mode through O_CREAT
    with os.fdopen(fd, "wb") as f:
        f.write(nonce + sealed)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_sealed(path: Path, key: bytes, object_id: str) -> bytes:
    """Decrypt a sealed file; raises `cryptography.exceptions.InvalidTag` if it was altered,
    swapped or sealed under another key."""
    blob = path.read_bytes()
    return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], object_id.encode())
