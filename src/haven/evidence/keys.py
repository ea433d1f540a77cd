"""Key providers: who wraps and unwraps the per-object data keys.

The vault never stores a data key in the clear; it asks a provider to wrap it. The local
provider wraps with AES-256-GCM under a master key from settings; a cloud KMS provider
(AWS KMS Encrypt/Decrypt, GCP KMS, Vault transit) implements the same two methods.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from haven.core.settings import Settings
from haven.evidence.config import EvidenceSettings


class KeyProvider(Protocol):
    name: str

    def wrap(self, data_key: bytes, context: bytes) -> tuple[str, bytes]:
        """Return (key id, wrapped key); `context` is bound as associated data."""
        ...

    def unwrap(self, key_id: str, wrapped: bytes, context: bytes) -> bytes: ...


class LocalKeyProvider:
    """Wraps data keys with AES-256-GCM under a 32-byte master key."""

    name = "local"

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the evidence master key must be 32 bytes")
        self._aead = AESGCM(master_key)
        self.key_id = "local:" + hashlib.sha256(b"haven-evidence-key-id" + master_key).hexdigest()[:16]

    def wrap(self, data_key: bytes, context: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(12)
        return self.key_id, nonce + self._aead.encrypt(nonce, data_key, context)

    def unwrap(self, key_id: str, wrapped: bytes, context: bytes) -> bytes:
        if key_id != self.key_id:
            raise ValueError(f"object is wrapped under key {key_id}, but the configured master key is {self.key_id}")
        return self._aead.decrypt(wrapped[:12], wrapped[12:], context)


def key_provider(settings: Settings, ev: EvidenceSettings) -> KeyProvider:
    """The configured provider. A development run without a master key gets one generated
    into var/ (like the quarantine key); production must set HAVEN_EVIDENCE_MASTER_KEY."""
    raw = ev.master_key.get_secret_value()
    if raw:
        return LocalKeyProvider(base64.b64decode(raw))
    if settings.is_production:
        raise ValueError("HAVEN_EVIDENCE_MASTER_KEY must be set in production")
    path: Path = settings.var_dir / "dev-evidence-master.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
        path.chmod(0o600)
    return LocalKeyProvider(base64.b64decode(path.read_text().strip()))
