"""The `haven` command on a real database and real files: exit codes and output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from haven.cli import app
from haven.core.settings import Settings, get_settings
from tests.helpers import encode, sample

runner = CliRunner()


@pytest.fixture
def cli_env(settings: Settings, db, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HAVEN_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("HAVEN_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_integration_create_json_and_list(cli_env: Settings) -> None:
    code, out, _ = run("integration", "create", "shop", "--scopes", "intake,banks:read", "--json")
    assert code == 0
    created = json.loads(out)
    assert created["key"].startswith("hvn_") and created["id"]
    code, out, _ = run("integration", "list", "--json")
    (row,) = json.loads(out)
    assert row["name"] == "shop" and row["scopes"] == ["banks:read", "intake"]
    assert created["key"] not in out  # secrets are never listed
    code, _, err = run("integration", "create", "x", "--scopes", "intake,nope")
    assert code == 2 and "unknown scope(s): nope" in err
    assert run("integration", "revoke", "shop")[0] == 0
    assert json.loads(run("integration", "list", "--json")[1])[0]["revoked"] is True


def test_bank_add_scan_and_exit_codes(cli_env: Settings, tmp_path: Path) -> None:
    known = tmp_path / "known.png"
    known.write_bytes(encode(sample("astronaut"), "PNG"))
    folder = tmp_path / "uploads"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "copy.jpg").write_bytes(encode(sample("astronaut").rotate(90, expand=True), quality=60))
    (folder / "other.jpg").write_bytes(encode(sample("coffee")))
    assert run("bank", "create", "local", "--kind", "known_csam", "--classification", "A2")[0] == 0
    code, out, _ = run("bank", "add", "local", str(known))
    from haven.signals.image import bank_variants

    strong = len(bank_variants(known.read_bytes())[1])  # a new bank's level is strong: every variant
    assert code == 0 and f"banked 4 hash(es) and {strong} robustness variant(s)" in out
    code, out, _ = run("scan", str(folder), "--json")
    assert code == 1
    rows = {Path(r["path"]).name: r for r in map(json.loads, out.splitlines())}
    assert rows["copy.jpg"]["verdict"]["action"] == "block"
    assert rows["copy.jpg"]["matches"][0]["classification"] == "A2"
    assert rows["copy.jpg"]["matches"][0]["bank"] == "local" and rows["copy.jpg"]["matches"][0]["bank_id"]
    assert rows["other.jpg"]["verdict"]["action"] == "allow" and rows["other.jpg"]["matches"] == []
    assert run("scan", str(folder / "other.jpg"))[0] == 0
    (folder / "notes.txt").write_text("not media")
    code, out, _ = run("scan", str(folder))
    assert code == 2 and "1 error(s)" in out


def test_bank_import_export_and_errors(cli_env: Settings, tmp_path: Path) -> None:
    run("bank", "create", "list", "--kind", "known_exploitation")
    good = tmp_path / "good.csv"
    good.write_text("signal_type,value,classification,source_ref\nsha256," + "a" * 64 + ",B1,ref\n")
    code, out, _ = run("bank", "import", "list", str(good))
    assert code == 0 and "imported 1 entry" in out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"signal_type": "md5", "value": "xyz"}\n')
    code, _, err = run("bank", "import", "list", str(bad))
    assert code == 2 and "line 1" in err and "not a valid md5" in err
    out_file = tmp_path / "out.csv"
    assert run("bank", "export", "list", "-o", str(out_file))[0] == 0
    assert out_file.read_text().splitlines()[1] == "sha256," + "a" * 64 + ",B1,ref"
    code, _, err = run("bank", "import", "missing-bank", str(good))
    assert code == 2 and "no bank 'missing-bank'" in err


def test_hash_command(cli_env: Settings, tmp_path: Path) -> None:
    img = tmp_path / "a.jpg"
    img.write_bytes(encode(sample("rocket")))
    code, out, _ = run("hash", str(img), "--json")
    row = json.loads(out)
    assert code == 0 and len(row["hashes"]["pdq"]) == 64 and row["hashes"]["pdq_quality"] >= 50
    txt = tmp_path / "a.txt"
    txt.write_text("hello")
    code, out, err = run("hash", str(img), str(txt))
    assert code == 2 and "unsupported media type" in err and "pdq" in out


def test_missing_schema_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAVEN_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        code, _, err = run("bank", "list")
    finally:
        get_settings.cache_clear()
    assert code == 2 and "run 'haven db upgrade'" in err and "Traceback" not in err


def test_demo_seed_then_block_over_http(cli_env: Settings, tmp_path: Path) -> None:
    """The README's first five minutes: seed, then the printed upload is blocked by a real server."""
    import shlex
    import threading
    import time

    import httpx
    import uvicorn

    from haven.app import create_app
    from tests.conftest import free_port

    code, out, _ = run("demo", "seed")
    assert code == 0
    curl = next(line for line in out.splitlines() if line.startswith("curl "))
    parts = shlex.split(curl)
    key = parts[parts.index("-H") + 1].split("Bearer ", 1)[1]
    file_path = next(p for p in parts if p.startswith("file=@"))[len("file=@") :]
    meta = next(p for p in parts if p.startswith("metadata="))[len("metadata=") :]
    app_ = create_app(get_settings())
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app_, host="127.0.0.1", port=port, log_config=None))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    while not srv.started:
        time.sleep(0.02)
    try:
        headers = {"Authorization": f"Bearer {key}"}
        with open(file_path, "rb") as f:
            r = httpx.post(
                f"http://127.0.0.1:{port}/v1/content", headers=headers, files={"file": f}, data={"metadata": meta}
            )
        assert r.status_code == 200 and r.json()["verdict"]["action"] == "block"
        unrelated = Path(file_path).with_name("unrelated.jpg")
        with open(unrelated, "rb") as f:
            r = httpx.post(f"http://127.0.0.1:{port}/v1/content", headers=headers, files={"file": f})
        assert r.json()["verdict"]["action"] == "allow"
    finally:
        srv.should_exit = True
        t.join(timeout=10)
    assert run("demo", "seed")[0] == 0  # seeding twice is harmless


def test_db_upgrade_says_what_it_did(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from haven.core.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'new' / 'haven.db'}"
    monkeypatch.setenv("HAVEN_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        code, out, _ = run("db", "upgrade")
        assert code == 0 and "created the database schema" in out
        code, out, _ = run("db", "upgrade")
        assert code == 0 and "up to date" in out
        older = f"sqlite:///{tmp_path / 'older.db'}"
        upgrade(older, "0100_review")
        monkeypatch.setenv("HAVEN_DATABASE_URL", older)
        get_settings.cache_clear()
        code, out, _ = run("db", "upgrade")
        assert code == 0 and "upgraded the database schema" in out
    finally:
        get_settings.cache_clear()
