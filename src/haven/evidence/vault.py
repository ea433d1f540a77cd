"""The evidence vault: reported material and its context, preserved encrypted for the legal
retention period, read only by authorised roles for a stated purpose, and deleted by itself
when retention ends and no hold remains (18 U.S.C. 2258A(h), 2258B(c)).

Each object is sealed with AES-256-GCM under its own random data key; the object id is the
associated data, so a file cannot be swapped for another object's. The data key is wrapped by
the key provider. SHA-256 of the plaintext is recorded at intake and checked on every read:
that, with the audit log of every access, is the chain of custody.

The sealed objects live in the configured store (`haven.core.storage`): `var/evidence/` on disk
or an S3 bucket. In a bucket with Object Lock each object is locked at intake until the earliest
its retention can end (intake + retention days), and the lock is extended to the retention's
real end when the report is finished: deleting or overwriting it before then is refused by the
store itself, not only by Haven.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from haven.core.actors import Actor
from haven.core.clock import new_id, now
from haven.core.errors import Conflict, Forbidden, Invalid, NotFound
from haven.core.jobs import enqueue
from haven.core.ledger import audit, record_event
from haven.core.models import AuditRecord, Event
from haven.core.sealed import seal, unseal
from haven.core.settings import Settings
from haven.core.storage import Storage, StorageError, storage_for
from haven.evidence.config import EvidenceSettings, evidence_settings
from haven.evidence.keys import KeyProvider, key_provider
from haven.evidence.models import EvidenceObject, LegalHold

#: Roles that may decrypt preserved material (2258A(h)(3): limit access to what is needed).
READ_ROLES = ("legal",)
#: Roles that may place and release holds and see the vault's listings (never the bytes).
MANAGE_ROLES = ("legal", "admin")
PREFIX = "evidence"
log = logging.getLogger("haven.evidence")


@dataclass
class Vault:
    """The vault bound to settings and a key provider."""

    settings: Settings
    ev: EvidenceSettings
    keys: KeyProvider

    @classmethod
    def from_settings(cls, settings: Settings, ev: EvidenceSettings | None = None) -> Vault:
        ev = ev or evidence_settings()
        return cls(settings, ev, key_provider(settings, ev))

    @property
    def root(self) -> Path:
        """The vault's folder when it is on the local disk."""
        root = self.settings.var_dir / PREFIX
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        return root

    @property
    def store(self) -> Storage:
        return storage_for(self.settings)

    # -- intake ---------------------------------------------------------------------------
    def put(
        self,
        session: Session,
        data: bytes,
        *,
        actor: Actor,
        kind: str,
        file_name: str,
        content_type: str | None,
        case_id: str | None = None,
        content_id: str | None = None,
        account_id: str | None = None,
        expected_sha256: str | None = None,
    ) -> EvidenceObject:
        """Seal and store one object; record its SHA-256 (checked against the intake hash when
        one is known), an audit record and a ledger event in the caller's transaction."""
        digest = hashlib.sha256(data).hexdigest()
        if expected_sha256 is not None and expected_sha256 != digest:
            raise Invalid(
                "the bytes to preserve differ from the hash recorded at intake",
                code="custody_hash_mismatch",
                details={"expected": expected_sha256, "actual": digest},
            )
        object_id = new_id()
        data_key = AESGCM.generate_key(bit_length=256)
        key_id, wrapped = self.keys.wrap(data_key, object_id.encode())
        stamp = now()
        path = self.store.put(
            f"{PREFIX}/{object_id}.bin",
            seal(data_key, data, object_id),
            retain_until=stamp + timedelta(days=self.ev.retention_days),
        )
        obj = EvidenceObject(
            id=object_id,
            case_id=case_id,
            content_id=content_id,
            account_id=account_id,
            kind=kind,
            file_name=file_name,
            content_type=content_type,
            size_bytes=len(data),
            sha256=digest,
            path=path,
            key_provider=self.keys.name,
            key_id=key_id,
            wrapped_key=wrapped,
            created_by=actor.ref,
            created_at=stamp,
        )
        session.add(obj)
        audit(
            session,
            actor=actor.ref,
            action="evidence.store",
            object_type="evidence_object",
            object_id=object_id,
            purpose="preservation",
            details={"sha256": digest, "size": len(data), "case_id": case_id, "content_id": content_id},
        )
        record_event(
            session,
            "evidence.preserved",
            subject_type="evidence_object",
            subject_id=object_id,
            actor=actor.ref,
            data={"case_id": case_id, "kind": kind, "sha256": digest},
        )
        return obj

    # -- access ---------------------------------------------------------------------------
    def read(
        self,
        session: Session,
        object_id: str,
        *,
        actor: Actor,
        purpose: str,
        source_ip: str | None = None,
        view: bool = False,
    ) -> bytes:
        """Decrypt one object for an authorised caller with a stated purpose.

        Staff need the `legal` role; the system reads only to send material to NCMEC. Each read
        is in the audit log (`evidence.read`, and `media.view` too when a person looks at it,
        which is what makes `fileViewedByEsp` true in a later report).
        """
        authorise_read(actor)
        if not purpose.strip():
            raise Invalid("state the purpose of this access", code="purpose_required")
        obj = get_object(session, object_id)
        data = self._decrypt(obj)
        audit(
            session,
            actor=actor.ref,
            action="evidence.read",
            object_type="evidence_object",
            object_id=obj.id,
            purpose=purpose,
            source_ip=source_ip,
            details={"content_id": obj.content_id, "case_id": obj.case_id},
        )
        if view:
            audit(
                session,
                actor=actor.ref,
                action="media.view",
                object_type="evidence_object",
                object_id=obj.id,
                purpose=purpose,
                source_ip=source_ip,
                details={"content_id": obj.content_id},
            )
        return data

    def _decrypt(self, obj: EvidenceObject) -> bytes:
        if obj.destroyed_at is not None or obj.wrapped_key is None:
            raise NotFound(f"evidence object '{obj.id}' was destroyed", code="evidence_destroyed")
        data_key = self.keys.unwrap(obj.key_id, obj.wrapped_key, obj.id.encode())
        data = unseal(self.store.get(obj.path), data_key, obj.id)
        if hashlib.sha256(data).hexdigest() != obj.sha256:
            raise ValueError(f"evidence object {obj.id} failed its integrity check")
        return data

    # -- retention ------------------------------------------------------------------------
    def start_retention(self, session: Session, case_id: str, finished_at: datetime) -> datetime:
        """Start the preservation clock of a case's objects at the finished report, and queue
        the purge for when it ends."""

        until = finished_at + timedelta(days=self.ev.retention_days)
        for obj in session.scalars(select(EvidenceObject).where(EvidenceObject.case_id == case_id)):
            if obj.retain_until is None or obj.retain_until < until:
                obj.retain_until = until
            if obj.destroyed_at is None:
                self.store.retain(obj.path, until)  # the store's own lock, where it has one
        delay = max(0.0, (until - now()).total_seconds())
        enqueue(
            session,
            "evidence.purge",
            {"case_id": case_id},
            dedupe_key=f"evidence.purge:{case_id}:{until.isoformat()}",
            delay=delay,
        )
        record_event(
            session,
            "evidence.retention_started",
            subject_type="report_case",
            subject_id=case_id,
            actor="system:haven",
            data={"retain_until": until.isoformat(), "days": self.ev.retention_days},
        )
        return until

    def destroy(
        self, session: Session, object_id: str, *, actor: Actor, reason: str, legal_request_id: str | None
    ) -> None:
        """Permanently destroy an object (2258B(c): on law enforcement's request). Refused while
        another hold than the requesting one's is active."""
        if not actor.has_any("legal") and actor.kind != "system":
            raise Forbidden("destroying evidence needs the legal role", code="role_required")
        if legal_request_id is None:
            raise Invalid(
                "destruction before retention ends needs the law-enforcement request asking for it",
                code="request_required",
            )

        # legal builds on the vault (holds, productions); the vault reads a request only here, to
        # check that destruction is asked by a verified one: importing legal at start-up would
        # make the two folders depend on each other.
        from haven.legal.models import LegalRequest

        req = session.get(LegalRequest, legal_request_id)
        if req is None or req.verification != "verified":
            raise Conflict(
                "destruction is done on a verified law-enforcement request; record and verify it first",
                code="requester_not_verified",
            )
        obj = get_object(session, object_id)
        holds = [
            h
            for h in active_holds(session, obj)
            if h.legal_request_id is None or h.legal_request_id != legal_request_id
        ]
        if holds:
            raise Conflict(
                f"evidence object {obj.id} is under legal hold",
                code="under_legal_hold",
                details={"holds": [h.id for h in holds]},
            )
        self._shred(session, obj, actor=actor.ref, reason=reason)
        record_event(
            session,
            "evidence.destroyed",
            subject_type="evidence_object",
            subject_id=obj.id,
            actor=actor.ref,
            data={"reason": reason, "legal_request_id": legal_request_id, "case_id": obj.case_id},
        )

    def _shred(self, session: Session, obj: EvidenceObject, *, actor: str, reason: str) -> None:
        """Drop the data key (which alone makes the ciphertext unreadable) and delete the sealed
        object. A store lock that refuses the delete (COMPLIANCE mode, or no bypass permission)
        leaves ciphertext nobody can open until the lock ends; that is said in the audit record."""
        left: str | None = None
        try:
            self.store.delete(obj.path, bypass_retention=True)
        except StorageError as exc:
            left = str(exc)
            log.warning("evidence ciphertext kept by the store's lock", extra={"object": obj.id, "error": left})
        obj.wrapped_key = None
        obj.destroyed_at = now()
        obj.destroyed_by = actor
        obj.destruction_reason = reason
        audit(
            session,
            actor=actor,
            action="evidence.destroy",
            object_type="evidence_object",
            object_id=obj.id,
            purpose=reason,
            details={"ciphertext_kept_by_store": left} if left else None,
        )

    def purge(self, session: Session) -> list[str]:
        """Destroy every object whose retention has ended and that no active hold covers;
        each purge is a ledger event. Returns the purged ids."""
        t = now()
        due = session.scalars(
            select(EvidenceObject).where(
                EvidenceObject.destroyed_at.is_(None),
                EvidenceObject.retain_until.is_not(None),
                EvidenceObject.retain_until <= t,
            )
        ).all()
        purged: list[str] = []
        for obj in due:
            if active_holds(session, obj):
                continue
            self._shred(session, obj, actor="system:haven", reason="retention period ended")
            record_event(
                session,
                "evidence.purged",
                subject_type="evidence_object",
                subject_id=obj.id,
                actor="system:haven",
                data={
                    "case_id": obj.case_id,
                    "retain_until": obj.retain_until.isoformat() if obj.retain_until else None,
                },
            )
            purged.append(obj.id)
        return purged

    def sweep_orphans(self, session: Session, older_than_seconds: float = 86400) -> list[str]:
        """Delete sealed files that no row refers to: left by a transaction that rolled back
        after the file was written. Their data key was never stored, so they cannot be opened,
        but they are removed all the same. Young files are left alone (their row may be about
        to commit)."""
        cutoff = now() - timedelta(seconds=older_than_seconds)
        files = [o for o in self.store.list(PREFIX) if o.name.endswith((".bin", ".tmp")) and o.modified < cutoff]
        if not files:
            return []
        stems = [o.name.rsplit(".", 1)[0] for o in files]
        known = set(session.scalars(select(EvidenceObject.id).where(EvidenceObject.id.in_(stems))))
        removed = []
        for o, stem in zip(files, stems, strict=True):
            if stem not in known or o.name.endswith(".tmp"):
                self.store.delete(o.ref, bypass_retention=True)
                removed.append(o.name)
        return removed

    # -- export ---------------------------------------------------------------------------
    def export(
        self,
        session: Session,
        object_ids: list[str],
        *,
        actor: Actor,
        purpose: str,
        legal_request_id: str | None = None,
        extra_files: dict[str, bytes] | None = None,
    ) -> bytes:
        """A zip for law enforcement: the objects, a manifest, SHA256SUMS and the custody
        record (every audit record and ledger event about each object)."""
        manifest: list[dict[str, Any]] = []
        custody: dict[str, Any] = {}
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            sums: list[str] = []
            for oid in object_ids:
                obj = get_object(session, oid)
                data = self.read(session, oid, actor=actor, purpose=purpose)
                name = f"objects/{obj.id}-{_safe(obj.file_name)}"
                z.writestr(name, data)
                sums.append(f"{obj.sha256}  {name}")
                manifest.append(
                    {
                        "id": obj.id,
                        "file": name,
                        "kind": obj.kind,
                        "case_id": obj.case_id,
                        "content_id": obj.content_id,
                        "account_id": obj.account_id,
                        "sha256": obj.sha256,
                        "size": obj.size_bytes,
                        "preserved_at": obj.created_at.isoformat(),
                        "retain_until": obj.retain_until.isoformat() if obj.retain_until else None,
                    }
                )
                custody[obj.id] = custody_record(session, obj.id)
            for name, data in (extra_files or {}).items():
                z.writestr(name, data)
                sums.append(f"{hashlib.sha256(data).hexdigest()}  {name}")
            header = {
                "generated_at": now().isoformat(),
                "generated_by": actor.ref,
                "purpose": purpose,
                "legal_request_id": legal_request_id,
                "objects": manifest,
            }
            z.writestr("manifest.json", json.dumps(header, indent=2))
            z.writestr("custody.json", json.dumps(custody, indent=2, default=str))
            z.writestr("SHA256SUMS", "\n".join(sums) + "\n")
        for oid in object_ids:
            audit(
                session,
                actor=actor.ref,
                action="evidence.export",
                object_type="evidence_object",
                object_id=oid,
                purpose=purpose,
                details={"legal_request_id": legal_request_id},
            )
        record_event(
            session,
            "evidence.exported",
            subject_type="legal_request" if legal_request_id else "evidence",
            subject_id=legal_request_id or "-",
            actor=actor.ref,
            data={"objects": object_ids, "purpose": purpose},
        )
        return buf.getvalue()


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:100] or "object"


def authorise_read(actor: Actor) -> None:
    if actor.kind == "system":
        return
    if not actor.has_any(*READ_ROLES):
        raise Forbidden(
            "decrypting preserved material needs the legal role",
            code="role_required",
            details={"roles": list(READ_ROLES)},
        )


def authorise_manage(actor: Actor) -> None:
    if actor.kind != "system" and not actor.has_any(*MANAGE_ROLES):
        raise Forbidden("managing the evidence vault needs the legal or admin role", code="role_required")


def get_object(session: Session, object_id: str) -> EvidenceObject:
    obj = session.get(EvidenceObject, object_id)
    if obj is None:
        raise NotFound(f"no evidence object '{object_id}'", code="evidence_not_found")
    return obj


def active_holds(session: Session, obj: EvidenceObject) -> list[LegalHold]:
    """Holds that cover this object now: on the object, its case or its account."""
    t = now()
    conds = [LegalHold.object_id == obj.id]
    if obj.case_id:
        conds.append(LegalHold.case_id == obj.case_id)
    if obj.account_id:
        conds.append(LegalHold.account_id == obj.account_id)
    return list(
        session.scalars(
            select(LegalHold).where(
                or_(*conds),
                LegalHold.released_at.is_(None),
                or_(LegalHold.expires_at.is_(None), LegalHold.expires_at > t),
            )
        )
    )


def place_hold(
    session: Session,
    *,
    actor: Actor,
    reason: str,
    case_id: str | None = None,
    object_id: str | None = None,
    account_id: str | None = None,
    legal_request_id: str | None = None,
    expires_at: datetime | None = None,
) -> LegalHold:
    """Block deletion of a case's, an object's or an account's preserved material."""
    authorise_manage(actor)
    if sum(x is not None for x in (case_id, object_id, account_id)) != 1:
        raise Invalid("a hold covers exactly one of: a case, an object, an account", code="hold_scope")
    hold = LegalHold(
        id=new_id(),
        case_id=case_id,
        object_id=object_id,
        account_id=account_id,
        reason=reason,
        legal_request_id=legal_request_id,
        created_by=actor.ref,
        created_at=now(),
        expires_at=expires_at,
    )
    session.add(hold)
    audit(
        session,
        actor=actor.ref,
        action="evidence.hold_place",
        object_type="legal_hold",
        object_id=hold.id,
        purpose=reason,
        details={"case_id": case_id, "object_id": object_id, "account_id": account_id},
    )
    record_event(
        session,
        "evidence.hold_placed",
        subject_type="legal_hold",
        subject_id=hold.id,
        actor=actor.ref,
        data={"case_id": case_id, "object_id": object_id, "account_id": account_id, "reason": reason},
    )
    return hold


def release_hold(session: Session, hold_id: str, *, actor: Actor, reason: str | None = None) -> LegalHold:
    """Release a hold (saying why, in the audit log and the ledger); a purge job re-checks what
    it was holding back."""

    authorise_manage(actor)
    hold = session.get(LegalHold, hold_id)
    if hold is None:
        raise NotFound(f"no legal hold '{hold_id}'", code="hold_not_found")
    if hold.released_at is None:
        hold.released_at = now()
        hold.released_by = actor.ref
        audit(
            session,
            actor=actor.ref,
            action="evidence.hold_release",
            object_type="legal_hold",
            object_id=hold.id,
            purpose=reason,
            details={"case_id": hold.case_id, "object_id": hold.object_id, "account_id": hold.account_id},
        )
        record_event(
            session,
            "evidence.hold_released",
            subject_type="legal_hold",
            subject_id=hold.id,
            actor=actor.ref,
            data={"reason": reason} if reason else {},
        )
        enqueue(session, "evidence.purge", {"hold_id": hold.id}, dedupe_key=f"evidence.purge:hold:{hold.id}")
    return hold


def custody_record(session: Session, object_id: str) -> list[dict[str, Any]]:
    """Every audit record and ledger event about an object, oldest first."""
    audits = session.scalars(
        select(AuditRecord)
        .where(AuditRecord.object_type == "evidence_object", AuditRecord.object_id == object_id)
        .order_by(AuditRecord.created_at, AuditRecord.id)
    )
    events = session.scalars(
        select(Event)
        .where(Event.subject_type == "evidence_object", Event.subject_id == object_id)
        .order_by(Event.created_at, Event.id)
    )
    rows: list[dict[str, Any]] = [
        {"at": a.created_at.isoformat(), "kind": "access", "actor": a.actor, "action": a.action, "purpose": a.purpose}
        for a in audits
    ]
    rows += [
        {"at": e.created_at.isoformat(), "kind": "event", "actor": e.actor, "action": e.type, "data": e.data}
        for e in events
    ]
    return sorted(rows, key=lambda r: r["at"])
