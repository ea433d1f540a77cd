"""The vault from the command line and over HTTP."""

from __future__ import annotations

import json
import zipfile

import pytest
from typer.testing import CliRunner

from haven.cli import app
from haven.core.db import Database
from haven.core.settings import Settings
from tests.conftest import LiveServer, make_key
from tests.cybertip.fixtures import LiveDouble, case_for, configure, decide, make_item, run_jobs

runner = CliRunner()


def test_evidence_cli(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    configure(monkeypatch, settings, double)
    monkeypatch.setenv("HAVEN_DATABASE_URL", db_url)
    with db.session() as s:
        item = make_item(s, settings, 61)
        decision_id = decide(s, [item.id])
    run_jobs(db)
    case_id = case_for(db, decision_id)
    r = runner.invoke(app, ["evidence", "list", "--case", case_id])
    assert r.exit_code == 0, r.output
    (obj,) = json.loads(r.output)
    assert obj["retain_until"] is None  # kept while the case is open; the clock starts at the finished report
    r = runner.invoke(app, ["evidence", "hold", "--case", case_id, "--reason", "litigation"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["evidence", "hold", "--reason", "x"])
    assert r.exit_code == 2 and "exactly one" in r.output
    r = runner.invoke(app, ["evidence", "destroy", obj["id"], "--reason", "LE request", "--request", "unknown"])
    assert r.exit_code == 2 and "verified law-enforcement request" in r.output
    r = runner.invoke(app, ["evidence", "read", obj["id"], "--purpose", "", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "purpose" in r.output
    r = runner.invoke(
        app, ["evidence", "read", obj["id"], "--purpose", "prepare testimony", "--out", str(tmp_path / "x.jpg")]
    )
    assert r.exit_code == 0 and (tmp_path / "x.jpg").read_bytes()[:2] == b"\xff\xd8"
    out = tmp_path / "pkg.zip"
    r = runner.invoke(app, ["evidence", "export", obj["id"], "--purpose", "warrant 26-9", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "SHA256SUMS" in zipfile.ZipFile(out).namelist()
    r = runner.invoke(app, ["evidence", "custody", obj["id"]])
    actions = [x["action"] for x in json.loads(r.output)]
    assert actions[0] == "evidence.store" and "evidence.export" in actions and "media.view" in actions
    r = runner.invoke(app, ["evidence", "holds"])
    (hold,) = json.loads(r.output)
    assert runner.invoke(app, ["evidence", "release", hold["id"]]).exit_code == 0
    r = runner.invoke(app, ["evidence", "purge"])
    assert r.exit_code == 0 and "0 object(s) purged" in r.output  # retention has not started


def test_evidence_api(db: Database, server: LiveServer) -> None:
    key = make_key(db, ["evidence"])
    with server.client(key) as c:
        r = c.post(
            "/v1/evidence/holds",
            json={"reason": "preservation", "account_id": "u-1", "expires_at": "2027-01-01T00:00:00Z"},
        )
        assert r.status_code == 201, r.text
        hold_id = r.json()["id"]
        r = c.post("/v1/evidence/holds", json={"reason": "x", "account_id": "u-1", "expires_at": "2027-01-01T00:00:00"})
        assert r.status_code == 422
        r = c.post("/v1/evidence/holds", json={"reason": "x", "account_id": "u-1", "case_id": "c"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "hold_scope"
        assert [h["id"] for h in c.get("/v1/evidence/holds").json()] == [hold_id]
        assert c.post(f"/v1/evidence/holds/{hold_id}/release").json()["released_at"]
        assert c.post("/v1/evidence/holds/nope/release").status_code == 404
        assert c.get("/v1/evidence").json() == []
