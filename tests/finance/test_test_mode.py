"""Test mode before payment actions, over HTTP: a test-mode key's sextortion case is screened as a
live one would be (held, payee frozen, minor limited and nudged), but every answer and webhook
says `"mode": "test"`, and its counts, links and restrictions stay in the test namespace: the same
real accounts paid through a live key are neither frozen, limited nor counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from haven.core.auth import SCOPES, create_integration
from haven.core.db import Database
from haven.finance.models import DetectorLink, FinanceRestriction, Pair, Transaction
from haven.finance.service import TEST_NS
from tests.conftest import LiveServer, make_key
from tests.enforce.doubles import receiver
from tests.enforce.test_webhook_flow import configure, drain
from tests.finance.test_cases import _case, _pay, _tx


def _test_key(db: Database) -> str:
    with db.session() as s:
        _, key = create_integration(s, "ci-test", [x for x in SCOPES if x != "admin"], mode="test")
    return key


def test_test_mode_key_acts_only_in_the_test_namespace(server: LiveServer, api_key: str, db: Database) -> None:
    admin = make_key(db, ["admin"])
    test_key = _test_key(db)
    t0 = datetime.now(UTC) - timedelta(minutes=50)
    with receiver() as rec, server.client(admin) as a, server.client(test_key) as t, server.client(api_key) as live:
        configure(a, rec)
        _case(t, "kid-t", "x-t", "conv-t", "t")  # the threatening conversation, through the test key
        drain(db)
        answers = _pay(t, "kid-t", "mule-t", "t", t0)
        # Screened as a live case: the second held by the burst rule, the third by the frozen payee.
        assert [x["outcome"] for x in answers] == ["approve", "hold", "hold"]
        assert all(x["mode"] == "test" for x in answers)
        assert answers[1]["rules"] == ["finance.sextortion.minor_flagged_burst"]
        assert "linked:payee.payouts_frozen" in answers[2]["indicators"]
        drain(db)
        sent = {d["type"]: d["data"] for d in rec.actions()}
        for kind in ("transaction.hold", "account.freeze_payouts", "account.limit_new_payees", "safety.nudge"):
            assert kind in sent, sorted(sent)
            assert sent[kind]["mode"] == "test", (kind, sent[kind])
        assert sent["safety.nudge"]["account_id"] == "kid-t" and sent["safety.nudge"]["transaction_id"]
        assert [(d["type"], d["data"]) for d in rec.actions() if d["data"].get("mode") != "test"] == []
        n_test_actions = len(rec.actions())

        # The same real accounts through a live key: nothing the test traffic did applies.
        r = live.post("/v1/transactions", json=_tx("live-1", "stranger", "mule-t", "5.00", t0, kind="p2p"))
        assert r.status_code == 200 and r.json()["outcome"] == "approve", r.text
        assert "mode" not in r.json()
        assert not [i for i in r.json()["indicators"] if i.startswith("linked:")]
        body = _tx("live-2", "kid-t", "mule-t", "50.00", t0 + timedelta(minutes=40), payer_country="US")
        r = live.post("/v1/transactions", json=body | {"payee_country": "NG"})
        assert r.status_code == 200, r.text
        assert "linked:payer.new_payees_limited" not in r.json()["indicators"]
        assert "linked:sextortion_conversation" not in r.json()["indicators"]
        assert "new_payee" in r.json()["indicators"]  # the test payments were not counted for it
        drain(db)
        assert all(d["data"].get("mode") == "test" for d in rec.actions()[:n_test_actions])
        assert not [d for d in rec.actions()[n_test_actions:] if d["data"].get("mode") == "test"]
    with db.session() as s:
        assert s.get(FinanceRestriction, ("mule-t", "payouts_frozen")) is None
        assert s.get(FinanceRestriction, ("kid-t", "new_payees_limited")) is None
        assert s.get(FinanceRestriction, (TEST_NS + "mule-t", "payouts_frozen")).status == "active"
        assert s.get(FinanceRestriction, (TEST_NS + "kid-t", "new_payees_limited")).status == "active"
        assert s.get(Pair, (TEST_NS + "kid-t", TEST_NS + "mule-t")).count == 3
        assert s.get(Pair, ("kid-t", "mule-t")).count == 1  # the live payment only
        links = {(x.account_id, x.other, x.kind) for x in s.scalars(select(DetectorLink))}
        assert (TEST_NS + "kid-t", TEST_NS + "x-t", "sextortion_conversation") in links
        assert not [x for x in links if not x[0].startswith(TEST_NS)]
        # The rows keep the accounts' own ids (the money trail and SAR packages show them).
        assert {t.payer for t in s.scalars(select(Transaction))} == {"kid-t", "stranger"}
