"""The report desk from the command line and over HTTP."""

from __future__ import annotations

import json

import pytest
from lxml import etree
from typer.testing import CliRunner

from haven.cli import app
from haven.core.db import Database
from haven.core.settings import Settings
from haven.cybertip.xml import validation_errors
from tests.conftest import LiveServer, make_key
from tests.cybertip.fixtures import LiveDouble, case_for, configure, decide, make_item, reveal, run_jobs

runner = CliRunner()


def _draft(db: Database, settings: Settings) -> str:
    with db.session() as s:
        item = make_item(s, settings, 31)
        reveal(s, settings, item)
        decision_id = decide(s, [item.id])
    run_jobs(db)
    return case_for(db, decision_id)


def test_cli_show_xml_submit_now(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    configure(monkeypatch, settings, double)
    monkeypatch.setenv("HAVEN_DATABASE_URL", db_url)
    case_id = _draft(db, settings)

    r = runner.invoke(app, ["report", "show", case_id, "--xml"])
    assert r.exit_code == 0, r.output
    first = r.output.split("<?xml")[1]
    assert validation_errors(("<?xml" + first).encode()) == []

    r = runner.invoke(app, ["report", "edit", case_id, "--set", 'victims=[{"esp_identifier": "user-child"}]'])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["report", "edit", case_id, "--set", "status=finished"])
    assert r.exit_code == 2 and "not editable" in r.output

    r = runner.invoke(app, ["report", "status"])
    assert r.exit_code == 0 and '"code": 0' in r.output

    r = runner.invoke(app, ["report", "submit", case_id, "--now"])
    assert r.exit_code == 0, r.output
    assert "finished: NCMEC report" in r.output

    r = runner.invoke(app, ["report", "show", case_id])
    shown = json.loads(r.output)
    assert shown["status"] == "finished" and shown["receipt"] and "reportDoneResponse" in shown["receipt"]
    r = runner.invoke(app, ["report", "show", case_id, "--xml"])
    doc = etree.fromstring(r.output.strip().encode())
    assert doc.findtext("victim/espIdentifier") == "user-child"

    r = runner.invoke(app, ["report", "refresh-xsd"])
    assert r.exit_code == 0, r.output
    assert (settings.var_dir / "cybertipline.xsd").exists()

    r = runner.invoke(app, ["report", "submit", "nope"])
    assert r.exit_code == 2 and "no report case" in r.output


def test_cli_without_credentials_fails_in_one_line(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("HAVEN_CYBERTIP_USERNAME", "")
    monkeypatch.setenv("HAVEN_VAR_DIR", str(settings.var_dir))
    r = runner.invoke(app, ["report", "refresh-xsd"])
    assert r.exit_code == 2 and "credentials" in r.output


def test_api_report_desk(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch, server: LiveServer
) -> None:
    configure(monkeypatch, settings, double)
    case_id = _draft(db, settings)
    key = make_key(db, ["reports"])
    other = make_key(db, ["intake"])
    with server.client(other) as c:
        assert c.get("/v1/cybertipline/reports").status_code == 403
    with server.client(key) as c:
        listed = c.get("/v1/cybertipline/reports").json()
        assert [x["id"] for x in listed] == [case_id]
        r = c.patch(f"/v1/cybertipline/reports/{case_id}", json={"classifications": {"x": "Z9"}})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_classification"
        r = c.patch(
            f"/v1/cybertipline/reports/{case_id}",
            json={"reported_account": {"ip_events": [{"ip": "1.2.3.4", "at": "yesterday"}]}},
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_person"
        r = c.patch(
            f"/v1/cybertipline/reports/{case_id}", json={"victims": [{"esp_identifier": "user-child", "age": 400}]}
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_person"  # refused when edited
        # What only the schema knows is refused at submission (a country code is two capitals).
        r = c.patch(
            f"/v1/cybertipline/reports/{case_id}",
            json={"victims": [{"esp_identifier": "user-child", "country_code": "usa"}]},
        )
        assert r.status_code == 200
        r = c.post(f"/v1/cybertipline/reports/{case_id}/submit")
        assert r.status_code == 422 and r.json()["error"]["code"] == "schema_invalid"
        assert (
            c.patch(
                f"/v1/cybertipline/reports/{case_id}", json={"victims": [{"esp_identifier": "user-child", "age": 12}]}
            ).status_code
            == 200
        )
        r = c.post(f"/v1/cybertipline/reports/{case_id}/escalate", json={"reason": "imminent risk"})
        assert r.status_code == 200 and r.json()["escalation_reason"] == "imminent risk"
        xml = c.get(f"/v1/cybertipline/reports/{case_id}/xml")
        assert xml.headers["content-type"].startswith("text/xml")
        assert validation_errors(xml.content) == []
        assert c.get("/v1/cybertipline/reports/unknown").status_code == 404
        r = c.post(f"/v1/cybertipline/reports/{case_id}/submit")
        assert r.status_code == 202 and r.json()["status"] == "queued"
        assert c.post(f"/v1/cybertipline/reports/{case_id}/submit").status_code == 409
    run_jobs(db)
    with server.client(key) as c:
        got = c.get(f"/v1/cybertipline/reports/{case_id}").json()
        assert got["status"] == "finished" and all(e["request_id"] for e in got["calls"])


def test_dev_cybertip_double_command_serves_the_api() -> None:
    """`haven dev cybertip-double` as a user runs it: a process on a loopback port."""
    import subprocess
    import sys
    import time

    import httpx

    from tests.conftest import free_port

    port = free_port()
    haven = str(__import__("pathlib").Path(sys.executable).with_name("haven"))
    proc = subprocess.Popen(
        [haven, "dev", "cybertip-double", "--port", str(port), "--username", "u", "--password", "p"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/ispws/status", auth=("u", "p"), timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert r.status_code == 200 and b"<responseCode>0</responseCode>" in r.content
        assert r.headers["Request-ID"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
