"""Item 19.9: quarantine and evidence files are readable by their owner only (0600), and the
quarantine directory by nobody else (0700), whatever the process umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from haven.core.actors import Actor
from haven.core.db import Database
from haven.core.settings import Settings
from haven.evidence.vault import Vault
from haven.screening import quarantine


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_quarantine_and_evidence_files_are_0600(settings: Settings, db: Database) -> None:
    old = os.umask(0o022)
    try:
        with db.session() as s:
            q = quarantine.put(s, settings, content_id="C" * 26, data=b"bytes", content_type="image/jpeg")
            obj = Vault.from_settings(settings).put(
                s,
                b"evidence",
                actor=Actor("system", "haven"),
                kind="media",
                file_name="x.jpg",
                content_type="image/jpeg",
            )
    finally:
        os.umask(old)
    assert _mode(Path(q.path)) == 0o600
    assert _mode(Path(q.path).parent) == 0o700
    assert _mode(Path(obj.path)) == 0o600
