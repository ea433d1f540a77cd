"""Sealed files in an S3-compatible store (moto's standalone server on loopback): the store sees
only ciphertext, Object Lock keeps evidence for its retention, and the disk stays the default."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.exceptions import InvalidTag

from haven.core.actors import CLI, SYSTEM
from haven.core.clock import now
from haven.core.db import Database
from haven.core.settings import Settings
from haven.core.storage import LocalStore, S3Store, StorageError, storage_for
from haven.evidence.vault import Vault
from haven.screening import quarantine
from tests.cybertip.fixtures import jpeg
from tests.scale.conftest import S3Endpoint


def _bucket_key(ref: str) -> tuple[str, str]:
    bucket, _, key = ref.removeprefix("s3://").partition("/")
    return bucket, key


def test_quarantine_in_s3_holds_only_ciphertext(db: Database, s3_settings: Settings, s3: S3Endpoint) -> None:
    data = jpeg(3)
    with db.session() as s:
        row = quarantine.put(s, s3_settings, content_id="c-1", data=data, content_type="image/jpeg")
    assert row.path.startswith("s3://") and "/haven/quarantine/" in row.path
    bucket, key = _bucket_key(row.path)
    stored = s3.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    assert data not in stored and len(stored) == len(data) + 12 + 16  # nonce + GCM tag
    assert not (s3_settings.var_dir / "quarantine").exists()  # nothing on the local disk
    with db.session() as s:
        assert quarantine.read(s, s3_settings, row.id, actor="staff:x", purpose="t", action=quarantine.PREVIEW) == data
    # A swapped object (another object's ciphertext under this key) fails to open.
    with db.session() as s:
        other = quarantine.put(s, s3_settings, content_id="c-2", data=b"other", content_type=None)
    s3.client().put_object(
        Bucket=bucket,
        Key=key,
        Body=s3.client().get_object(Bucket=bucket, Key=_bucket_key(other.path)[1])["Body"].read(),
    )
    with db.session() as s, pytest.raises(InvalidTag):
        quarantine.read(s, s3_settings, row.id, actor="staff:x", purpose="t", action=quarantine.PREVIEW)


def test_rows_on_disk_stay_readable_after_the_switch_to_s3(
    db: Database, settings: Settings, s3_settings: Settings
) -> None:
    with db.session() as s:
        row = quarantine.put(s, settings, content_id="c-1", data=b"old bytes", content_type=None)
    assert row.path.startswith(str(settings.var_dir))
    with db.session() as s:
        assert quarantine.read(
            s, s3_settings, row.id, actor="staff:x", purpose="t", action=quarantine.MACHINE_READ
        ) == (b"old bytes")


def test_evidence_is_locked_by_the_store_until_retention_ends(
    db: Database, s3_settings: Settings, s3: S3Endpoint
) -> None:
    vault = Vault.from_settings(s3_settings)
    with db.session() as s:
        obj = vault.put(s, b"preserved", actor=SYSTEM, kind="media", file_name="a.jpg", content_type="image/jpeg")
    bucket, key = _bucket_key(obj.path)
    client = s3.client()
    head = client.head_object(Bucket=bucket, Key=key)
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert head["ObjectLockRetainUntilDate"] >= now() + timedelta(days=364)
    # The store itself refuses to delete the locked version (not only Haven).
    versions = client.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    with pytest.raises(Exception, match="AccessDenied"):
        client.delete_object(Bucket=bucket, Key=key, VersionId=versions[0]["VersionId"])
    # The lock is extended (never shortened) to the retention's end.
    store = storage_for(s3_settings)
    later = now() + timedelta(days=800)
    assert store.retain(obj.path, later)
    assert client.head_object(Bucket=bucket, Key=key)["ObjectLockRetainUntilDate"] >= later - timedelta(seconds=1)
    assert store.retain(obj.path, now() + timedelta(days=10))
    assert client.head_object(Bucket=bucket, Key=key)["ObjectLockRetainUntilDate"] >= later - timedelta(seconds=1)
    with db.session() as s:
        assert vault.read(s, obj.id, actor=CLI, purpose="check") == b"preserved"


def test_destroying_evidence_bypasses_governance_and_removes_every_version(
    db: Database, s3_settings: Settings, s3: S3Endpoint
) -> None:
    vault = Vault.from_settings(s3_settings)
    with db.session() as s:
        obj = vault.put(s, b"to destroy", actor=SYSTEM, kind="media", file_name="a.jpg", content_type=None)
        vault._shred(s, obj, actor="system:haven", reason="test")
    bucket, key = _bucket_key(obj.path)
    listing = s3.client().list_object_versions(Bucket=bucket, Prefix=key)
    assert not listing.get("Versions") and not listing.get("DeleteMarkers")


def test_compliance_lock_keeps_ciphertext_but_the_key_is_gone(db: Database, s3_settings: Settings) -> None:
    locked = s3_settings.model_copy(update={"storage_object_lock": "COMPLIANCE"})
    vault = Vault.from_settings(locked)
    with db.session() as s:
        obj = vault.put(s, b"locked for good", actor=SYSTEM, kind="media", file_name="a.jpg", content_type=None)
    store = storage_for(locked)
    with pytest.raises(StorageError, match="AccessDenied"):
        store.delete(obj.path, bypass_retention=True)
    with db.session() as s:
        row = s.merge(obj)
        vault._shred(s, row, actor="system:haven", reason="test")
        assert row.wrapped_key is None and row.destroyed_at is not None
    assert store.get(obj.path)  # the store kept the ciphertext; nobody holds its key


def test_a_bucket_without_object_lock_stores_without_retention(
    db: Database, settings: Settings, s3: S3Endpoint
) -> None:
    plain = settings.model_copy(update={"storage_url": f"s3://{s3.bucket(lock=False)}", "s3_endpoint_url": s3.url})
    vault = Vault.from_settings(plain)
    with db.session() as s:
        obj = vault.put(s, b"x", actor=SYSTEM, kind="media", file_name="a", content_type=None)
    assert not storage_for(plain).retain(obj.path, now() + timedelta(days=400))
    with db.session() as s:
        assert vault.read(s, obj.id, actor=CLI, purpose="check") == b"x"


def test_orphans_are_swept_from_the_bucket(db: Database, s3_settings: Settings) -> None:
    vault = Vault.from_settings(s3_settings)
    store = storage_for(s3_settings)
    orphan = store.put("evidence/01ORPHAN0000000000000000000.bin", b"ciphertext")
    with db.session() as s:
        kept = vault.put(s, b"kept", actor=SYSTEM, kind="media", file_name="a", content_type=None)
    with db.session() as s:
        removed = vault.sweep_orphans(s, older_than_seconds=-60)
    assert removed == ["01ORPHAN0000000000000000000.bin"]
    with pytest.raises(StorageError):
        store.get(orphan)
    assert store.get(kept.path)


def test_local_store_is_the_default_with_private_files(settings: Settings) -> None:
    store = storage_for(settings)
    assert isinstance(store.primary, LocalStore)
    ref = store.put("quarantine/x.bin", b"sealed")
    assert ref == str(settings.var_dir / "quarantine" / "x.bin")
    assert (settings.var_dir / "quarantine" / "x.bin").stat().st_mode & 0o777 == 0o600
    assert (settings.var_dir / "quarantine").stat().st_mode & 0o777 == 0o700
    assert not store.retain(ref, now())
    store.delete(ref)
    with pytest.raises(StorageError):
        store.get(ref)


def test_bad_storage_url_is_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match="s3://bucket"):
        storage_for(settings.model_copy(update={"storage_url": "gs://x"}))
    assert S3Store("b", client=object()).owns("s3://b/k")
