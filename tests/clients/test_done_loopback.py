"""Issue 20, "done means": a Python program and a TypeScript program, each on its generated
client, upload the demo picture to a real Haven on loopback, get `block`, and receive and verify
the `content.remove` webhook with the Standard Webhooks library; in one test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from haven.core.db import Database
from tests.clients.conftest import PY_CLIENT
from tests.conftest import LiveServer, make_key


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> dict:
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (cmd, done.stdout, done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_python_and_typescript_programs_upload_get_block_and_verify_the_webhook(
    db: Database, demo_picture: Path, server: LiveServer, worker: None, ts_client: Path
) -> None:
    env = {
        **os.environ,
        "HAVEN_URL": server.url,
        "HAVEN_API_KEY": make_key(db, ["intake"]),
        "HAVEN_ADMIN_KEY": make_key(db, ["admin"]),
        "HAVEN_PICTURE": str(demo_picture),
        "PYTHONPATH": str(PY_CLIENT),
    }
    results = [
        _run([sys.executable, "examples/loopback.py"], env, PY_CLIENT),
        _run(["node", "dist/examples/loopback.js"], env, ts_client),
    ]
    assert [r["program"] for r in results] == ["python", "typescript"]
    for r in results:
        assert r["verdict"] == "block" and r["webhook"] == "content.remove"
        assert r["verified"] and r["tampered_refused"] and r["webhook_id"]
    assert results[0]["content_id"] != results[1]["content_id"]  # two uploads, two deliveries
