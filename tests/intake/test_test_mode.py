"""Test mode for integrators: a `test` key runs the whole pipeline, every answer says
`"mode": "test"`, the documented test inputs produce each verdict through the API, test traffic
never matches for a live key, webhooks about it say `"mode": "test"`, and CyberTipline
submissions of its cases go to the test environment only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from typer.testing import CliRunner

from haven.cli import app as cli_app
from haven.core.auth import SCOPES
from haven.core.db import Database
from haven.core.settings import Settings, get_settings
from haven.cybertip.config import CybertipSettings
from haven.cybertip.mode import settings_for_case
from haven.cybertip.models import ReportCase
from haven.enforce import webhooks
from haven.intake.testmode import TEST_SHA256, TEST_TEXTS, picture_for
from tests.conftest import LiveServer, make_key

DOCS = Path(__file__).resolve().parents[2] / "docs" / "integration.md"
SCOPE_LIST = ",".join(s for s in SCOPES if s != "admin")


def _test_key(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> str:
    """`haven integration create --mode test`, as an integrator would (it seeds the test bank)."""
    monkeypatch.setenv("HAVEN_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("HAVEN_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            cli_app, ["integration", "create", "ci", "--mode", "test", "--scopes", SCOPE_LIST, "--json"]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["mode"] == "test"
    return str(out["key"])


def _upload(c: httpx.Client, verdict: str, n: int) -> httpx.Response:
    meta = {"external_id": f"{verdict}-{n}", "uploader": f"user-{n}", "surface": "upload"}
    return c.post(
        "/v1/content",
        files={"file": (f"test-{verdict}.png", picture_for(verdict), "image/png")},
        data={"metadata": json.dumps(meta)},
    )


def test_the_documented_inputs_give_each_verdict_and_every_answer_says_test(
    server: LiveServer, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    test_key = _test_key(settings, monkeypatch)
    live_key = make_key(db, ["intake"], name="live")
    server.app.state.matcher.refresh()  # the test bank reaches the index (other processes: seconds)
    test, live = server.client(test_key), server.client(live_key)

    got: dict[str, dict[str, Any]] = {}
    for n, verdict in enumerate(("block", "review", "allow")):
        r = _upload(test, verdict, n)
        assert r.status_code == 200, r.text
        assert r.headers["haven-mode"] == "test"
        got[verdict] = r.json()
        assert got[verdict]["mode"] == "test"
        assert got[verdict]["verdict"]["action"] == verdict, got[verdict]["verdict"]
    assert got["block"]["verdict"]["rule"] == "known_material.block"
    assert got["review"]["verdict"]["rule"] == "known_material.quarantined_entry"

    r = test.post(
        "/v1/hashes/lookup", json={"hashes": [{"signal_type": "sha256", "value": v} for v in TEST_SHA256.values()]}
    )
    assert r.status_code == 200 and r.json()["mode"] == "test"
    assert [x["verdict"]["action"] for x in r.json()["results"]] == list(TEST_SHA256)

    def say(c: httpx.Client, conv: str, texts: list[str]) -> list[dict[str, Any]]:
        bodies = []
        for i, text in enumerate(texts):
            msg = {
                "message_id": f"{conv}-{i}",
                "conversation_id": conv,
                "sender": "a",
                "recipients": ["b"],
                "text": text,
            }
            r = c.post("/v1/messages", json=msg)
            assert r.status_code == 200, r.text
            assert r.json()["mode"] == "test"
            bodies.append(r.json()["verdict"])
        return bodies

    assert [v["rule"] for v in say(test, "t-allow", TEST_TEXTS["allow"])] == ["no_match.allow"]
    warned = say(test, "t-sext", TEST_TEXTS["sextortion_warning"])
    assert [(v["action"], v["rule"]) for v in warned] == [("allow", "no_match.allow")] * (len(warned) - 1) + [
        ("allow", "conversation.sextortion_warning")
    ]

    # Errors to a test key say it too; a live key's answers are untouched.
    r = test.post("/v1/hashes/lookup", json={"hashes": []})
    assert r.status_code == 422 and r.json()["mode"] == "test" and "error" in r.json()
    r = _upload(live, "block", 9)
    assert r.status_code == 200 and "mode" not in r.json() and "haven-mode" not in r.headers
    # ...and the test bank never decides a live key's traffic.
    assert r.json()["verdict"]["action"] == "allow" and r.json()["matches"] == []

    # Webhooks about test traffic say so; about live traffic they do not.
    with db.session() as s:
        t = webhooks.deliver(
            s,
            "content.remove",
            {"content_id": got["block"]["id"]},
            subject_type="content",
            subject_id=got["block"]["id"],
            actor="test",
            idempotency_key="tm-1",
        )
        lv = webhooks.deliver(
            s,
            "content.remove",
            {"content_id": r.json()["id"]},
            subject_type="content",
            subject_id=r.json()["id"],
            actor="test",
            idempotency_key="tm-2",
        )
        assert json.loads(webhooks.envelope(t))["data"]["mode"] == "test"
        assert "mode" not in json.loads(webhooks.envelope(lv))["data"]

        # A report case of test traffic goes to the CyberTipline test environment only.
        production = CybertipSettings(
            environment="production",
            username="prod",
            password=SecretStr("p"),
            test_username="sandbox",
            test_password=SecretStr("s"),
        )
        case = ReportCase(category="csam", incident_type="x", subject_type="content", subject_id=got["block"]["id"])
        forced = settings_for_case(s, case, production)
        assert (forced.environment, forced.username, forced.base_url) == (
            "test",
            "sandbox",
            "https://exttest.cybertip.org/ispws",
        )
        case_live = ReportCase(category="csam", incident_type="x", subject_type="content", subject_id=r.json()["id"])
        assert settings_for_case(s, case_live, production) is production
        # Without test credentials a test case is not configured (it pauses) rather than use production's.
        bare = settings_for_case(
            s, case, CybertipSettings(environment="production", username="prod", password=SecretStr("p"))
        )
        assert bare.environment == "test" and not bare.configured


def test_the_test_inputs_are_the_documented_ones(db: Database) -> None:
    text = DOCS.read_text()
    for value in TEST_SHA256.values():
        assert value in text
    for texts in TEST_TEXTS.values():
        for t in texts:
            assert t in text
    # The bank is created once however often it is asked for.
    from haven.banks.models import Bank, BankEntry
    from haven.intake.testmode import ensure_test_bank

    with db.session() as s:
        ensure_test_bank(s, actor="test")
        ensure_test_bank(s, actor="test")
        bank = s.scalar(select(Bank).where(Bank.name == "test"))
        assert bank is not None
        roots = s.scalars(select(BankEntry).where(BankEntry.bank_id == bank.id, BankEntry.variant_of.is_(None)))
        assert len(list(roots)) == 4
