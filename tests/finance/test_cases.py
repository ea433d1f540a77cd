"""A financial case after the screening: the reviewer's task page (money trail beside the linked
conversation, both audited), release and keep decisions (webhooks, restrictions, ledger), the
SAR/STR package (`haven finance sar`) of the confirmed one, and the backtest (`haven finance backtest`), with their
CLI errors (one line, exit 2)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from haven.cli import app
from haven.core.db import Database
from haven.core.models import AuditRecord, Event
from haven.core.settings import Settings, get_settings
from haven.finance.models import FinanceRestriction, SarExport, Transaction
from haven.review.models import ReviewTask
from tests.conftest import LiveServer, make_key
from tests.enforce.doubles import receiver
from tests.enforce.test_webhook_flow import configure, drain
from tests.review.console_client import ConsoleClient
from tests.review.fixtures import PASSWORD, make_staff

runner = CliRunner()
MEMO = "for the blue bicycle"  # a memo the SAR package must leave out


def _tx(ext: str, payer: str, payee: str, amount: str, at: datetime, **kw: object) -> dict[str, object]:
    return {
        "external_id": ext,
        "kind": "gift_card",
        "payer": payer,
        "payee": payee,
        "amount": amount,
        "currency": "USD",
        "occurred_at": at.isoformat(),
        **kw,
    }


def _case(c: httpx.Client, kid: str, extorter: str, conv: str, prefix: str) -> None:
    """A 14-year-old threatened in a conversation pays a new payee abroad three times (rising)."""
    c.put(f"/v1/accounts/{kid}", json={"age_band": "13_15"})
    for i, text in enumerate(["i have ur pics", "pay me $200 in steam cards or i will send them to all ur friends"]):
        r = c.post(
            "/v1/messages",
            json={
                "message_id": f"{prefix}-m{i}",
                "conversation_id": conv,
                "sender": extorter,
                "recipients": [kid],
                "text": text,
            },
        )
        assert r.status_code == 200, r.text


def _pay(c: httpx.Client, kid: str, mule: str, prefix: str, t0: datetime) -> list[dict[str, object]]:
    out = []
    for i, amount in enumerate(["50.00", "80.00", "120.00"]):
        body = _tx(f"{prefix}{i}", kid, mule, amount, t0 + timedelta(minutes=10 * i), payer_country="US")
        body |= {"payee_country": "NG", "memo": MEMO}
        r = c.post("/v1/transactions", json=body)
        assert r.status_code == 200, r.text
        out.append(r.json())
    return out


def _audits(db: Database, action: str) -> list[AuditRecord]:
    with db.session() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.action == action)))


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HAVEN_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("HAVEN_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _one_line_error(argv: list[str], expected: str) -> None:
    res = runner.invoke(app, argv)
    assert res.exit_code == 2, (argv, res.output)
    assert res.exception is None or isinstance(res.exception, SystemExit)
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1 and expected in lines[0], (argv, res.output)


def test_task_page_money_trail_release_keep_and_sar(
    server: LiveServer, api_key: str, db: Database, cli_env: None, tmp_path: Path
) -> None:
    admin = make_key(db, ["admin"])
    t0 = datetime.now(UTC) - timedelta(minutes=50)
    with receiver() as rec, server.client(admin) as a, server.client(api_key) as c:
        configure(a, rec)
        _case(c, "kid-a", "x-a", "conv-a", "a")
        _case(c, "kid-b", "x-b", "conv-b", "b")
        drain(db)
        assert [x["outcome"] for x in _pay(c, "kid-a", "mule-a", "a", t0)] == ["approve", "hold", "hold"]
        assert [x["outcome"] for x in _pay(c, "kid-b", "mule-b", "b", t0)] == ["approve", "hold", "hold"]
        drain(db)
        with db.session() as s:
            tasks = {t.subject_id: t.id for t in s.scalars(select(ReviewTask).where(ReviewTask.queue == "financial"))}
        assert set(tasks) == {"mule-a", "mule-b"}

        # Someone who may not see child-safety tasks gets neither the page nor the trail.
        _, rsecret = make_staff(db, "rev@example.org", ["reviewer"])
        other = ConsoleClient(server.url)
        other.sign_in("rev@example.org", PASSWORD, rsecret)
        assert other.get(f"/console/tasks/{tasks['mule-a']}").status_code == 403
        assert _audits(db, "finance.trail_view") == [] and _audits(db, "conversation.view") == []

        cs_id, secret = make_staff(db, "cs@example.org", ["child_safety_reviewer"])
        cs = ConsoleClient(server.url)
        cs.sign_in("cs@example.org", PASSWORD, secret)
        page = cs.follow(cs.post("/console/queues/financial/next"))
        assert page.status_code == 200
        first = page.url.path.rsplit("/", 1)[1]
        mule = "mule-a" if first == tasks["mule-a"] else "mule-b"
        p = mule[-1]
        html = page.text
        # The money trail: the three payments of the case, the two held ones marked as this task's.
        assert f'id="trail-h">Money trail of <code>{mule}</code>' in html
        for i in range(3):
            assert f'data-transaction="{p}{i}"' in html
        assert html.count('class="flagged"') == 2 and html.count("(this task)") == 2
        assert f'<tr data-transaction="{p}0">' in html  # approved: shown, not marked
        assert "payouts frozen (active" in html and "new payees limited (active" in html
        assert "US → NG" in html and "50.00 USD" in html
        # ... beside the conversation Haven linked (a different account's conversation is not shown).
        assert f'conversation <a href="#conv-h"><code>conv-{p}</code></a>' in html
        assert 'id="conv-h">Conversation</h2>' in html and "steam cards" in html
        assert f"x-{p}" in html and ("x-b" if p == "a" else "x-a") not in html
        trail = _audits(db, "finance.trail_view")
        assert [(v.actor, v.object_type, v.object_id, v.purpose) for v in trail] == [
            (f"staff:{cs_id}", "account", mule, "review.task")
        ]
        assert trail[0].details["transactions"] == 3 and len(trail[0].details["flagged"]) == 2
        assert [v.object_id for v in _audits(db, "conversation.view")] == [f"conv-{p}"]

        # No violation: the held payments are released, the payee unfrozen, the minor unlimited.
        r = cs.post(f"/console/tasks/{first}/decide", {"decision": "no_violation", "then": "queue"})
        assert r.status_code == 303, r.text
        drain(db)
        # The other case: a violation keeps its payments (declined to the service).
        page = cs.follow(cs.post("/console/queues/financial/next"))
        second = page.url.path.rsplit("/", 1)[1]
        kept = "mule-b" if mule == "mule-a" else "mule-a"
        assert second == tasks[kept]
        r = cs.post(
            f"/console/tasks/{second}/decide",
            {"decision": "violation", "category": "sextortion", "then": "queue"},
        )
        assert r.status_code == 303, r.text
        drain(db)
        q = kept[-1]
        released = {d["data"]["external_id"] for d in rec.actions("transaction.release")}
        assert released == {f"{p}1", f"{p}2"}
        settled_declines = {d["data"]["external_id"] for d in rec.actions("transaction.decline")}
        assert settled_declines == {f"{q}1", f"{q}2"}
        assert [d["data"]["account_id"] for d in rec.actions("account.unfreeze_payouts")] == [mule]
        assert [d["data"]["account_id"] for d in rec.actions("account.unlimit_new_payees")] == [f"kid-{p}"]
        assert rec.bad_signatures == 0
        # Payments of the kept payee with people outside the case stay out of its SAR package.
        r = c.post("/v1/transactions", json=_tx("other", "stranger", kept, "5.00", t0, kind="p2p"))
        assert r.json()["outcome"] == "hold"  # its payouts are still frozen
        r = c.post("/v1/transactions", json=_tx("unrelated", "p-1", "q-1", "5.00", t0, kind="p2p"))
        assert r.json()["outcome"] == "approve"
    with db.session() as s:
        status = {t.external_id: t.status for t in s.scalars(select(Transaction))}
        assert status == {
            f"{p}0": "approved",
            f"{p}1": "released",
            f"{p}2": "released",
            f"{q}0": "approved",
            f"{q}1": "kept",
            f"{q}2": "kept",
            "other": "held",
            "unrelated": "approved",
        }
        assert s.get(FinanceRestriction, (mule, "payouts_frozen")).status == "lifted"
        assert s.get(FinanceRestriction, (f"kid-{p}", "new_payees_limited")).status == "lifted"
        assert s.get(FinanceRestriction, (kept, "payouts_frozen")).status == "active"
        assert s.get(FinanceRestriction, (f"kid-{q}", "new_payees_limited")).status == "active"
        # Every decision is in the ledger: one settlement per held payment, naming the decision.
        settled = list(s.scalars(select(Event).where(Event.type == "transaction.settled")))
        assert sorted(e.data["status"] for e in settled) == ["kept", "kept", "released", "released"]
        assert all(e.data["decision_id"] for e in settled)
        assert len(list(s.scalars(select(Event).where(Event.type == "finance.restriction_lifted")))) == 2

    # The confirmed case's SAR/STR support package (FINTRAC), for the minor's account.
    out = tmp_path / "sar"
    res = runner.invoke(app, ["finance", "sar", f"kid-{q}", "--out", str(out), "--regime", "fintrac"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "package.json",
        "summary.html",
        "transactions.csv",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    package = json.loads((out / "package.json").read_text())
    rows = list(csv.DictReader((out / "transactions.csv").open()))
    # Exactly the subject's flagged payments and the payments between the same parties.
    assert sorted(x["external_id"] for x in rows) == [f"{q}0", f"{q}1", f"{q}2"]
    assert manifest["transactions"] == 3 and sorted(manifest["subjects"]) == [f"kid-{q}", kept]
    assert set(manifest["transaction_ids"]) == {x["transaction_id"] for x in rows}
    assert [x["status"] for x in sorted(rows, key=lambda x: x["external_id"])] == ["approved", "kept", "kept"]
    assert {x["account_id"]: x["age_band"] for x in package["subjects"]} == {f"kid-{q}": "13_15", kept: "unknown"}
    assert "PROTECT" in package["narrative_template"] and package["regime"] == "fintrac"
    assert "Part C currency code" in package["regime_fields"].values()
    assert "finance.sextortion.minor_flagged_burst" in package["rules"] and "minor_payer" in package["indicators"]
    # Data minimisation: no memo, no message text, nobody outside the parties, in any file.
    for f in out.iterdir():
        text = f.read_text()
        assert MEMO not in text and "steam cards" not in text and "stranger" not in text and "p-1" not in text
        assert mule not in text
    with db.session() as s:
        export = s.scalars(select(SarExport)).one()
        assert export.subject == f"kid-{q}" and export.regime == "fintrac" and export.manifest == manifest
        audits = list(s.scalars(select(AuditRecord).where(AuditRecord.action == "finance.sar_export")))
        assert [(x.object_type, x.object_id) for x in audits] == [("account", f"kid-{q}")]
        ev = s.scalars(select(Event).where(Event.type == "finance.sar_exported")).one()
        assert ev.data["transactions"] == 3 and ev.data["files"] == manifest["files"]

    # Errors: one line, exit 2, and nothing exported.
    _one_line_error(["finance", "sar", f"kid-{q}", "--out", str(out)], "not empty")
    _one_line_error(["finance", "sar", "p-1", "--out", str(tmp_path / "x")], "no flagged payment")
    _one_line_error(["finance", "sar", f"kid-{q}", "--out", str(tmp_path / "y"), "--regime", "fatf"], "regime")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
    with db.session() as s:
        assert len(s.scalars(select(SarExport)).all()) == 1


def _rules(tmp_path: Path, name: str, **change: object) -> Path:
    """The shipped rules with the fan-in threshold lowered and/or the shadow rule promoted."""
    from importlib import resources

    doc = yaml.safe_load(resources.files("haven.finance").joinpath("defaults/rules.yaml").read_text())
    doc["version"] = name
    for rule in doc["rules"]:
        if rule["name"] == "finance.typology.fan_in" and "fan_in" in change:
            rule["when"]["transaction"]["payee"]["min_counterparties"] = change["fan_in"]
        if rule["name"] == "finance.shadow.minor_first_abroad" and change.get("promote"):
            rule.pop("mode")
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return p


def test_backtest_replays_stored_payments(
    server: LiveServer, api_key: str, db: Database, cli_env: None, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    with server.client(api_key) as c:
        c.put("/v1/accounts/kid-c", json={"age_band": "13_15"})
        batch = [
            _tx(f"f{i}", f"sender-{i}", "collector", "5.00", now - timedelta(hours=3, seconds=-i), kind="p2p")
            for i in range(30)
        ]
        r = c.post("/v1/transactions/batch", json={"transactions": batch})
        assert [x["outcome"] for x in r.json()["results"]] == ["approve"] * 30  # fan-in needs 50 payers
        body = _tx("kid", "kid-c", "far-ph", "20.00", now - timedelta(minutes=10), payer_country="US")
        r = c.post("/v1/transactions", json=body | {"payee_country": "PH"})
        assert r.json()["outcome"] == "approve" and r.json()["shadow"][0]["would_decide"]

    # The shipped rules change nothing; the shadow rule's matches are reported.
    shipped = _rules(tmp_path, "same")
    res = runner.invoke(app, ["finance", "backtest", str(shipped), "--since", "1d"])
    assert res.exit_code == 0, res.output
    assert "replayed 31 transactions since 1d" in res.output and "outcome changed for 0" in res.output
    assert "shadow finance.shadow.minor_first_abroad: matched 1, would decide 1" in res.output

    # Fan-in at 20 payers: the 20th to the 30th payer would have been reviewed; the promoted
    # shadow rule reviews the minor's payment.
    tuned = _rules(tmp_path, "tuned", fan_in=20, promote=True)
    res = runner.invoke(app, ["finance", "backtest", str(tuned), "--since", "1d"])
    assert res.exit_code == 0, res.output
    assert "outcome changed for 12" in res.output and "approve -> review: 12" in res.output
    assert "finance.typology.fan_in: 11" in res.output and "finance.shadow.minor_first_abroad: 1" in res.output
    assert "e.g. f19: approve (finance.approve) -> review (finance.typology.fan_in)" in res.output
    # --since 1h replays only the minor's payment, the older ones still count as its history.
    res = runner.invoke(app, ["finance", "backtest", str(tuned), "--since", "1h"])
    assert "replayed 1 transactions since 1h" in res.output and "approve -> review: 1" in res.output
    # Read-only: nothing changed but the audit records of the runs.
    with db.session() as s:
        assert {t.outcome for t in s.scalars(select(Transaction))} == {"approve"}
    assert len(_audits(db, "finance.backtest")) == 3

    bad = tmp_path / "bad.yaml"
    bad.write_text("version: x\nrules: [{name: r, verdict: explode}]\n")
    _one_line_error(["finance", "backtest", str(tmp_path / "missing.yaml")], "cannot read")
    _one_line_error(["finance", "backtest", str(bad)], "bad.yaml")
    _one_line_error(["finance", "backtest", str(tuned), "--since", "yesterday"], "yesterday")
    assert len(_audits(db, "finance.backtest")) == 3
