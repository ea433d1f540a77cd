"""Backup and restore of a Haven: the database and the sealed objects (quarantine, evidence).

    python scripts/backup.py backup DIR     # the configured database and store -> DIR
    python scripts/backup.py restore DIR    # DIR -> the configured (empty) database and store

Configuration is Haven's own (HAVEN_DATABASE_URL, HAVEN_STORAGE_URL, HAVEN_S3_ENDPOINT_URL, the
AWS credential chain), so a restore can target another database and another bucket: the rows'
object references are rewritten to where the objects now are. The objects are copied as they
are stored, sealed: a backup holds ciphertext only, and is useless without the quarantine key and
the evidence master key, which are backed up apart (a secrets manager), never beside it.

PostgreSQL is dumped with `pg_dump --format=custom` and restored with `pg_restore` (same major
version or newer); SQLite with its online backup API. Restored evidence is locked again in an
Object Lock bucket until its retention's end. Run it with the API and workers stopped, or
accept that objects written during the dump may be missing from it (their rows too, if the dump
began first: the dump is one consistent snapshot, the object copy runs after it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from haven.core.db import Database
from haven.core.settings import get_settings
from haven.core.storage import storage_for
from haven.evidence.config import evidence_settings

TABLES = {"quarantine": "quarantine_objects", "evidence": "evidence_objects"}


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def backup(out: Path) -> dict[str, int]:
    settings = get_settings()
    url = settings.effective_database_url
    out.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        src = sqlite3.connect(url.split("///", 1)[1])
        dst = sqlite3.connect(out / "haven.db")
        src.backup(dst)
        dst.close()
        src.close()
    else:
        subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", "--file", str(out / "haven.dump"), _libpq(url)], check=True
        )
    store = storage_for(settings)
    db = Database(url)
    manifest: list[dict[str, str]] = []
    with db.reading() as s:
        for prefix, table in TABLES.items():
            for oid, ref in s.execute(text(f"SELECT id, path FROM {table}")).all():  # noqa: S608 (fixed names)
                try:
                    blob = store.get(ref)
                except Exception as exc:  # deleted or destroyed: the row says so, nothing to copy
                    print(f"skipped {table} {oid}: {exc}", file=sys.stderr)
                    continue
                key = f"{prefix}/{oid}.bin"
                (out / key).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                (out / key).write_bytes(blob)
                (out / key).chmod(0o600)
                manifest.append(
                    {"table": table, "id": oid, "key": key, "ref": ref, "sha256": hashlib.sha256(blob).hexdigest()}
                )
    db.dispose()
    (out / "manifest.json").write_text(
        json.dumps({"database": "sqlite" if url.startswith("sqlite") else "postgresql", "objects": manifest}, indent=1)
    )
    return {"objects": len(manifest)}


def _aware(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands text() results back as text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def restore(src: Path) -> dict[str, int]:
    settings = get_settings()
    url = settings.effective_database_url
    manifest = json.loads((src / "manifest.json").read_text())
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        if path.exists() and path.stat().st_size:
            raise SystemExit(f"refusing to restore over a non-empty database at {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        dump = sqlite3.connect(src / "haven.db")
        dst = sqlite3.connect(path)
        dump.backup(dst)
        dst.close()
        dump.close()
    else:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", _libpq(url), str(src / "haven.dump")],
            check=True,
        )
    store = storage_for(settings)
    db = Database(url)
    restored = 0
    with db.session() as s:
        for obj in manifest["objects"]:
            blob = (src / obj["key"]).read_bytes()
            if hashlib.sha256(blob).hexdigest() != obj["sha256"]:
                raise SystemExit(f"{obj['key']} differs from its backup manifest: not restored")
            until = None
            if obj["table"] == "evidence_objects":
                row = s.execute(
                    text("SELECT retain_until, created_at FROM evidence_objects WHERE id = :i"), {"i": obj["id"]}
                ).first()
                if row is not None:  # locked again until retention ends (or the earliest it can)
                    until = _aware(row[0]) or _aware(row[1]) + timedelta(days=evidence_settings().retention_days)
            ref = store.put(obj["key"], blob, retain_until=until)
            s.execute(text(f"UPDATE {obj['table']} SET path = :new WHERE id = :i"), {"new": ref, "i": obj["id"]})  # noqa: S608
            restored += 1
    db.dispose()
    return {"objects": restored}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=("backup", "restore"))
    ap.add_argument("folder", type=Path)
    args = ap.parse_args(argv)
    done = backup(args.folder) if args.action == "backup" else restore(args.folder)
    print(json.dumps({args.action: str(args.folder), **done}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
