"""Where sealed files live: the local disk (the embedded default) or an S3-compatible object store
(AWS S3, MinIO, Ceph RGW, GCS in interoperability mode), so several API hosts serve the same
quarantine and evidence vault.

The store only ever sees ciphertext: callers seal with `haven.core.sealed.seal` first, so the
format of a sealed object is the same on disk and in a bucket (nonce || ciphertext+tag, the
object id bound as associated data). Each stored object is named by a *ref* kept in its row:
an absolute path for the disk (what rows held before this module existed), `s3://bucket/key`
for a bucket. Reads dispatch on the ref, so rows written before a switch to S3 stay readable
while their files are still on the disk.

Evidence can be locked in the store (S3 Object Lock: a retain-until date, GOVERNANCE by default
so that a verified law-enforcement request to destroy, 18 U.S.C. 2258B(c), can still be honoured
by a principal allowed to bypass it; COMPLIANCE makes it impossible for anyone, the vault then
destroys by dropping the data key). The disk has no such lock: `retain` answers False there.

Configuration: `HAVEN_STORAGE_URL` (empty = `var_dir` on disk, `s3://bucket/prefix`),
`HAVEN_S3_ENDPOINT_URL` (MinIO, Ceph, moto...), `HAVEN_S3_REGION`, `HAVEN_STORAGE_OBJECT_LOCK`
(`GOVERNANCE`, `COMPLIANCE` or `off`). Credentials come from boto3's usual chain (environment,
profile, instance or pod role): never from Haven's settings.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from haven.core.settings import Settings

#: Sealed files are the owner's alone (the ciphertext still tells its size and existence).
FILE_MODE = 0o600
DIR_MODE = 0o700
S3_SCHEME = "s3://"


class StorageError(Exception):
    """The store refused or failed an operation (missing object, lock, no access)."""


@dataclass(frozen=True)
class StoredObject:
    ref: str
    name: str  # the last part of the key, e.g. "01J...bin"
    modified: datetime


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (temp file, fsync, rename), readable by its owner only
    whatever the process umask."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # an existing temp file keeps its mode through O_CREAT
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class ObjectStore(Protocol):
    """One place objects are kept. Keys are relative (`quarantine/<id>.bin`); refs are what rows
    keep and what `get` and `delete` take."""

    name: str

    def put(self, key: str, data: bytes, *, retain_until: datetime | None = None) -> str: ...
    def get(self, ref: str) -> bytes: ...
    def delete(self, ref: str, *, bypass_retention: bool = False) -> None: ...
    def retain(self, ref: str, until: datetime) -> bool: ...
    def list(self, prefix: str) -> Iterator[StoredObject]: ...
    def owns(self, ref: str) -> bool: ...


class LocalStore:
    """Files under a root folder (`var_dir`), 0700 folders and 0600 files."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, key: str, data: bytes, *, retain_until: datetime | None = None) -> str:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        path.parent.chmod(DIR_MODE)  # a folder made before this release keeps its mode otherwise
        write_private(path, data)
        return str(path)

    def get(self, ref: str) -> bytes:
        try:
            return Path(ref).read_bytes()
        except FileNotFoundError:
            raise StorageError(f"no stored object at {ref}") from None

    def delete(self, ref: str, *, bypass_retention: bool = False) -> None:
        """Overwrite with random bytes before unlinking: on a plain disk that is the most a
        process can do to make the ciphertext unrecoverable."""
        path = Path(ref)
        if not path.exists():
            return
        size = path.stat().st_size
        with open(path, "r+b") as f:
            f.write(os.urandom(size))
            f.flush()
            os.fsync(f.fileno())
        path.unlink()

    def retain(self, ref: str, until: datetime) -> bool:
        return False

    def list(self, prefix: str) -> Iterator[StoredObject]:
        folder = self.root / prefix
        if not folder.is_dir():
            return
        for p in folder.iterdir():
            if p.is_file():
                yield StoredObject(str(p), p.name, datetime.fromtimestamp(p.stat().st_mtime, UTC))

    def owns(self, ref: str) -> bool:
        return not ref.startswith(S3_SCHEME)


class S3Store:
    """An S3-compatible bucket through boto3. `prefix` namespaces one Haven in a shared bucket."""

    name = "s3"

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        lock_mode: str | None = "GOVERNANCE",
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.lock_mode = lock_mode
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url or None,
                region_name=region or None,
                config=Config(retries={"max_attempts": 5, "mode": "standard"}),
            )
        self.client = client
        self._locking: bool | None = None

    @property
    def locking(self) -> bool:
        """Whether retention is set: a lock mode is configured and the bucket has Object Lock
        (asked once; a bucket without it refuses a PUT that carries retention)."""
        if self._locking is None:
            if not self.lock_mode:
                self._locking = False
            else:
                try:
                    conf = self.client.get_object_lock_configuration(Bucket=self.bucket)
                    self._locking = conf.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"
                except Exception:  # ObjectLockConfigurationNotFoundError, or a store without the API
                    self._locking = False
        return self._locking

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _split(self, ref: str) -> tuple[str, str]:
        if not ref.startswith(S3_SCHEME):
            raise StorageError(f"not an object-store reference: {ref}")
        bucket, _, key = ref[len(S3_SCHEME) :].partition("/")
        return bucket, key

    def put(self, key: str, data: bytes, *, retain_until: datetime | None = None) -> str:
        import hashlib
        from base64 import b64encode

        full = self._key(key)
        # Content-MD5 makes the store check the bytes it received (and is what Object Lock
        # requires of a PUT that carries retention).
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": full,
            "Body": data,
            "ContentType": "application/octet-stream",
            "ContentMD5": b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode(),
        }
        if retain_until is not None and self.locking:
            args["ObjectLockMode"] = self.lock_mode
            args["ObjectLockRetainUntilDate"] = retain_until
        self._call("put_object", **args)
        return f"{S3_SCHEME}{self.bucket}/{full}"

    def get(self, ref: str) -> bytes:
        bucket, key = self._split(ref)
        body = self._call("get_object", Bucket=bucket, Key=key)["Body"]
        return bytes(body.read())

    def delete(self, ref: str, *, bypass_retention: bool = False) -> None:
        """Delete every version of the object (a locked bucket is versioned: a plain DELETE
        would only add a delete marker and keep the ciphertext)."""
        bucket, key = self._split(ref)
        versions = self._call("list_object_versions", Bucket=bucket, Prefix=key)
        found = [v for v in versions.get("Versions", []) + versions.get("DeleteMarkers", []) if v["Key"] == key]
        if not found:
            self._call("delete_object", Bucket=bucket, Key=key)
            return
        for v in found:
            args: dict[str, Any] = {"Bucket": bucket, "Key": key, "VersionId": v["VersionId"]}
            if bypass_retention:
                args["BypassGovernanceRetention"] = True
            self._call("delete_object", **args)

    def retain(self, ref: str, until: datetime) -> bool:
        """Set (or extend: a lock is never shortened here) the object's retain-until date."""
        if not self.locking:
            return False
        bucket, key = self._split(ref)
        current = self._call("head_object", Bucket=bucket, Key=key).get("ObjectLockRetainUntilDate")
        if current is not None and current >= until:
            return True
        self._call(
            "put_object_retention",
            Bucket=bucket,
            Key=key,
            Retention={"Mode": self.lock_mode, "RetainUntilDate": until},
        )
        return True

    def list(self, prefix: str) -> Iterator[StoredObject]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._key(prefix))
        for page in pages:
            for o in page.get("Contents", []):
                yield StoredObject(
                    f"{S3_SCHEME}{self.bucket}/{o['Key']}", o["Key"].rsplit("/", 1)[-1], o["LastModified"]
                )

    def owns(self, ref: str) -> bool:
        return ref.startswith(S3_SCHEME)

    def _call(self, op: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, op)(**kwargs)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            raise StorageError(f"object store {op} failed: {err.get('Code')} {err.get('Message', '')}".strip()) from exc
        except BotoCoreError as exc:
            raise StorageError(f"object store {op} failed: {exc}") from exc


class Storage:
    """The configured store for new objects, and the way back to any object a row names (by the
    shape of its ref)."""

    def __init__(self, primary: ObjectStore, local: LocalStore) -> None:
        self.primary = primary
        self.local = local

    def _for(self, ref: str) -> ObjectStore:
        if self.primary.owns(ref):
            return self.primary
        if self.local.owns(ref):
            return self.local
        raise StorageError(f"no configured store holds {ref} (HAVEN_STORAGE_URL)")

    def put(self, key: str, data: bytes, *, retain_until: datetime | None = None) -> str:
        return self.primary.put(key, data, retain_until=retain_until)

    def get(self, ref: str) -> bytes:
        return self._for(ref).get(ref)

    def delete(self, ref: str, *, bypass_retention: bool = False) -> None:
        self._for(ref).delete(ref, bypass_retention=bypass_retention)

    def retain(self, ref: str, until: datetime) -> bool:
        return self._for(ref).retain(ref, until)

    def list(self, prefix: str) -> Iterator[StoredObject]:
        return self.primary.list(prefix)


def parse_url(url: str) -> tuple[str, str]:
    """`s3://bucket/prefix` -> (bucket, prefix)."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"HAVEN_STORAGE_URL must be empty (local disk) or s3://bucket[/prefix], not {url!r}")
    return parts.netloc, parts.path.strip("/")


_CACHE: dict[tuple[str, str, str, str, str], Storage] = {}


def storage_for(settings: Settings) -> Storage:
    """The storage of these settings (one boto3 client per configuration and process: clients are
    thread-safe and keep their connection pool)."""
    ident = (
        str(settings.var_dir),
        settings.storage_url,
        settings.s3_endpoint_url,
        settings.s3_region,
        settings.storage_object_lock,
    )
    found = _CACHE.get(ident)
    if found is not None:
        return found
    local = LocalStore(settings.var_dir)
    primary: ObjectStore = local
    if settings.storage_url:
        bucket, prefix = parse_url(settings.storage_url)
        lock = settings.storage_object_lock.upper()
        primary = S3Store(
            bucket,
            prefix,
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region or None,
            lock_mode=None if lock in ("", "OFF", "NONE") else lock,
        )
    store = _CACHE[ident] = Storage(primary, local)
    return store
