"""Fixtures for the client libraries' tests: the Python client importable from clients/python,
the TypeScript client installed from its lockfile and built once per session, a worker thread
(so webhooks leave while a program waits for them) and the demo picture banked as known."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from haven.core import jobs
from haven.core.db import Database
from haven.signals.stand_ins import synthetic_picture

ROOT = Path(__file__).resolve().parents[2]
PY_CLIENT = ROOT / "clients" / "python"
TS_CLIENT = ROOT / "clients" / "typescript"
sys.path.insert(0, str(PY_CLIENT))


def _jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture(scope="session")
def ts_client() -> Path:
    """clients/typescript with node_modules from package-lock.json (`npm ci`) and dist/ built."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node.js 20 and npm are needed for the TypeScript client (scripts/system-deps.sh)")
    if not (TS_CLIENT / "node_modules" / ".package-lock.json").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=TS_CLIENT, check=True, capture_output=True)
    tsc = TS_CLIENT / "node_modules" / "typescript" / "bin" / "tsc"
    subprocess.run(["node", str(tsc), "-p", "tsconfig.json"], cwd=TS_CLIENT, check=True, capture_output=True)
    return TS_CLIENT


@pytest.fixture
def worker(db: Database) -> Iterator[None]:
    """A worker thread running jobs as `haven worker` does."""
    stop = threading.Event()
    thread = threading.Thread(
        target=lambda: jobs.work(db, idle_sleep=0.05, stop=stop.is_set), daemon=True, name="test-worker"
    )
    thread.start()
    yield
    stop.set()
    thread.join(timeout=10)


@pytest.fixture
def demo_picture(db: Database, tmp_path: Path) -> Path:
    """`haven demo seed`'s first picture banked as known material, and the path of its re-encoded,
    resized copy (matches by PDQ, not by bytes), which uploads get `block` for."""
    from haven.banks.service import add_entries, create_bank, entries_from_files

    known = tmp_path / "known-1.jpg"
    img = synthetic_picture(1000)
    known.write_bytes(_jpeg(img))
    copy = tmp_path / "reupload-of-known-1.jpg"
    copy.write_bytes(_jpeg(img.resize((img.width * 3 // 4, img.height * 3 // 4)), quality=70))
    with db.session() as s:
        bank = create_bank(s, name="demo-known-material", kind="known_csam", actor="cli", default_classification="A1")
        entries, variants, _ = entries_from_files([known], classification="A1", max_pixels=50_000_000)
        add_entries(s, bank, entries, actor="cli", variants=variants)
    return copy
