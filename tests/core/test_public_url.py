"""One public-URL setting: every printed link follows where Haven serves (item 6 of issue 18)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from haven.cli import app
from haven.core.settings import Settings, get_settings

runner = CliRunner()


def test_public_url_defaults_to_host_and_port(tmp_path: Path) -> None:
    assert Settings(var_dir=tmp_path).public_url == "http://127.0.0.1:8000"
    assert Settings(var_dir=tmp_path, port=9123).public_url == "http://127.0.0.1:9123"
    assert Settings(var_dir=tmp_path, host="0.0.0.0", port=80).public_url == "http://127.0.0.1:80"
    assert Settings(var_dir=tmp_path, host="10.0.0.5", port=81).public_url == "http://10.0.0.5:81"
    assert Settings(var_dir=tmp_path, public_url="https://haven.example.org/").public_url == "https://haven.example.org"
    with pytest.raises(ValueError, match="HAVEN_PUBLIC_URL must start with http"):
        Settings(var_dir=tmp_path, public_url="haven.example.org")


def test_serve_records_its_address_and_staff_create_and_demo_print_it(
    settings: Settings, db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    for name in ("HAVEN_PUBLIC_URL", "HAVEN_HOST", "HAVEN_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HAVEN_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("HAVEN_VAR_DIR", str(tmp_path))
    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: served.update(kw))
    get_settings.cache_clear()
    try:
        r = runner.invoke(app, ["serve", "--port", "9123"])
        assert r.exit_code == 0, r.output
        assert served["port"] == 9123 and "http://127.0.0.1:9123/console/" in r.stdout
        assert get_settings().public_url == "http://127.0.0.1:9123"  # the app the server builds
        # Another terminal: no HAVEN_PORT in its environment, the recorded address all the same.
        monkeypatch.delenv("HAVEN_HOST")
        monkeypatch.delenv("HAVEN_PORT")
        get_settings.cache_clear()
        r = runner.invoke(app, ["staff", "create", "port@example.org", "--role", "reviewer"])
        assert r.exit_code == 0, r.output
        assert "http://127.0.0.1:9123/console/setup/" in r.stdout and ":8000" not in r.stdout
        r = runner.invoke(app, ["demo", "seed"])
        assert r.exit_code == 0, r.output
        assert "http://127.0.0.1:9123/v1/content" in r.stdout and ":8000" not in r.stdout
        # An explicit port in the environment wins over the recorded one.
        monkeypatch.setenv("HAVEN_PORT", "9200")
        get_settings.cache_clear()
        r = runner.invoke(app, ["staff", "create", "p2@example.org", "--role", "reviewer"])
        assert "http://127.0.0.1:9200/console/setup/" in r.stdout
    finally:
        get_settings.cache_clear()
