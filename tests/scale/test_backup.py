"""scripts/backup.py: back up the database and the sealed objects, restore them into an empty
database and an empty bucket, and read the material back through Haven (integrity-checked
decryption, the custody record)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from haven.core.actors import CLI, SYSTEM
from haven.core.db import Database
from haven.core.settings import Settings
from haven.evidence.vault import Vault, custody_record
from haven.screening import quarantine
from tests.conftest import PG_URL
from tests.scale.conftest import S3Endpoint

ROOT = Path(__file__).resolve().parents[2]


def _run(env: dict[str, str], *args: str) -> str:
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "backup.py"), *args],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def test_backup_then_restore_into_an_empty_database_and_bucket(
    backend: str, db: Database, s3_settings: Settings, s3: S3Endpoint, tmp_path: Path
) -> None:
    if backend != "postgres":
        pytest.skip("pg_dump/pg_restore and S3: the scale-out deployment's backup (set HAVEN_TEST_POSTGRES_URL)")
    key = s3_settings.quarantine_key_bytes()  # the keys are backed up apart, and given to the restore
    vault = Vault.from_settings(s3_settings)
    with db.session() as s:
        q = quarantine.put(s, s3_settings, content_id="c-1", data=b"held upload", content_type="image/jpeg")
        ev = vault.put(s, b"preserved report file", actor=SYSTEM, kind="media", file_name="r.jpg", content_type=None)
    common = {
        "HAVEN_S3_ENDPOINT_URL": s3.url,
        "HAVEN_QUARANTINE_KEY": base64.b64encode(key).decode(),
        "HAVEN_VAR_DIR": str(s3_settings.var_dir),
    }
    out = tmp_path / "backup"
    _run(
        {
            **common,
            "HAVEN_DATABASE_URL": s3_settings.effective_database_url,
            "HAVEN_STORAGE_URL": s3_settings.storage_url,
        },
        "backup",
        str(out),
    )
    assert (out / "haven.dump").stat().st_size > 0
    assert b"held upload" not in (out / "quarantine" / f"{q.id}.bin").read_bytes()  # ciphertext only

    name = f"haven_restore_{uuid.uuid4().hex[:8]}"
    admin = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    target_url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    bucket = s3.bucket(lock=True)
    try:
        _run(
            {**common, "HAVEN_DATABASE_URL": target_url, "HAVEN_STORAGE_URL": f"s3://{bucket}/restored"},
            "restore",
            str(out),
        )
        restored_settings = s3_settings.model_copy(
            update={"database_url": target_url, "storage_url": f"s3://{bucket}/restored"}
        )
        target = Database(target_url)
        try:
            with target.session() as s:
                row = s.get(type(q), q.id)
                assert row is not None and row.path.startswith(f"s3://{bucket}/restored/")
                assert (
                    quarantine.read(
                        s,
                        restored_settings,
                        q.id,
                        actor="cli:op",
                        purpose="restore check",
                        action=quarantine.MACHINE_READ,
                    )
                    == b"held upload"
                )
                rv = Vault.from_settings(restored_settings)
                assert rv.read(s, ev.id, actor=CLI, purpose="restore check") == b"preserved report file"
                assert [r["action"] for r in custody_record(s, ev.id)][:2] == ["evidence.store", "evidence.preserved"]
            head = s3.client().head_object(Bucket=bucket, Key=f"restored/evidence/{ev.id}.bin")
            assert head["ObjectLockMode"] == "GOVERNANCE"  # locked again in the new bucket
        finally:
            target.dispose()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
