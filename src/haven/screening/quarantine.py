"""The encrypted quarantine store for the bytes of blocked or held media.

AES-256-GCM with a key from settings; the object id is bound as associated data so a file
cannot be swapped for another object's. The sealed bytes go to the configured store
(`haven.core.storage`: `var/quarantine/` on disk, or an S3 bucket shared by every API host).
The evidence vault takes over from this store for reported material. Every read is authorised
by the caller and written to the audit log here.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from haven.core.clock import new_id
from haven.core.errors import NotFound
from haven.core.ledger import audit
from haven.core.sealed import seal, unseal
from haven.core.settings import Settings
from haven.core.storage import storage_for
from haven.screening.models import QuarantineObject

PREFIX = "quarantine"


def put(
    session: Session, settings: Settings, *, content_id: str, data: bytes, content_type: str | None
) -> QuarantineObject:
    """Encrypt and store the bytes; returns the object row (added to the session)."""
    object_id = new_id()
    ref = storage_for(settings).put(f"{PREFIX}/{object_id}.bin", seal(settings.quarantine_key_bytes(), data, object_id))
    row = QuarantineObject(
        id=object_id,
        content_id=content_id,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        content_type=content_type,
        path=ref,
    )
    session.add(row)
    return row


def discard(settings: Settings, row: QuarantineObject) -> None:
    """Remove an object's sealed bytes from the store (the caller marks the row deleted)."""
    storage_for(settings).delete(row.path)


#: Audit actions of a read. Only `media.view` means a person saw the file as it is: it is what
#: a CyberTipline report's `fileViewedByEsp` is built from, so blurred previews and machine
#: reads must never use it.
VIEW = "media.view"
PREVIEW = "media.preview_blurred"
MACHINE_READ = "media.read"


def open_object(session: Session, settings: Settings, object_id: str) -> tuple[QuarantineObject, bytes]:
    """Decrypt an object and check its integrity, without an audit record: for a caller that
    records the access itself once it happened (`record_access`), such as the reveal, whose
    `media.view` is written only after the bytes were sent."""
    row = session.get(QuarantineObject, object_id)
    if row is None or row.deleted_at is not None:
        raise NotFound(f"no quarantined object '{object_id}'", code="object_not_found")
    data = unseal(storage_for(settings).get(row.path), settings.quarantine_key_bytes(), object_id)
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise ValueError(f"quarantined object {object_id} failed its integrity check")
    return row, data


def record_access(
    session: Session,
    object_id: str,
    content_id: str,
    *,
    actor: str,
    purpose: str,
    action: str,
    source_ip: str | None = None,
) -> None:
    """The audit record of one read of a quarantined object."""
    audit(
        session,
        actor=actor,
        action=action,
        object_type="quarantine_object",
        object_id=object_id,
        purpose=purpose,
        source_ip=source_ip,
        details={"content_id": content_id},
    )


def read(
    session: Session,
    settings: Settings,
    object_id: str,
    *,
    actor: str,
    purpose: str,
    action: str,
    source_ip: str | None = None,
) -> bytes:
    """Decrypt an object for an authorised caller, recording the access in the audit log.

    The caller checks authorisation and must say what the read is (`action`: VIEW only when a
    person sees the file as it is, PREVIEW, MACHINE_READ); this function
    guarantees the audit record and integrity.
    """
    row, data = open_object(session, settings, object_id)
    record_access(session, object_id, row.content_id, actor=actor, purpose=purpose, action=action, source_ip=source_ip)
    return data
