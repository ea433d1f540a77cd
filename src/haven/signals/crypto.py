"""Cryptographic hashes of raw bytes: exact-match signals for every kind of file."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class CryptoHashes:
    md5: str
    sha1: str
    sha256: str


def crypto_hashes(data: bytes) -> CryptoHashes:
    """MD5, SHA-1 and SHA-256 of the bytes (MD5 and SHA-1 because NCMEC and industry lists
    still carry them; SHA-256 as the integrity hash of record)."""
    return CryptoHashes(
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        sha1=hashlib.sha1(data, usedforsecurity=False).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
    )
