"""Finance over HTTP: the sextortion victim pattern is held (payee frozen, nudge, financial task
with the conversation), an adult paying a friend is approved, fan-in trips review, bad input is
a clear 4xx, and a duplicate external_id is idempotent (nothing counted twice)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from haven.core.db import Database
from haven.finance.models import FinanceRestriction, Pair, Transaction
from haven.review.models import ReviewTask
from tests.conftest import LiveServer, make_key
from tests.enforce.doubles import receiver
from tests.enforce.test_webhook_flow import configure, drain

SEXTORTION = ["i have ur pics", "pay me $200 in steam cards or i will send them to all ur friends"]


def _tx(ext: str, payer: str, payee: str, amount: str, at: datetime, **kw: object) -> dict[str, object]:
    return {
        "external_id": ext,
        "kind": kw.pop("kind", "gift_card"),
        "payer": payer,
        "payee": payee,
        "amount": amount,
        "currency": kw.pop("currency", "USD"),
        "occurred_at": at.isoformat(),
        **kw,
    }


def test_sextortion_pattern_held_adult_approved_fan_in(server: LiveServer, api_key: str, db: Database) -> None:
    admin = make_key(db, ["admin"])
    t0 = datetime.now(UTC) - timedelta(minutes=50)
    with receiver() as rec, server.client(admin) as a, server.client(api_key) as c:
        configure(a, rec)
        c.put("/v1/accounts/kid-14", json={"age_band": "13_15"})
        c.put("/v1/accounts/dad-1", json={"age_band": "adult"})
        c.put("/v1/accounts/friend-1", json={"age_band": "adult"})
        for i, text in enumerate(SEXTORTION, 1):
            r = c.post(
                "/v1/messages",
                json={
                    "message_id": f"m{i}",
                    "conversation_id": "conv-s",
                    "sender": "x-1",
                    "recipients": ["kid-14"],
                    "text": text,
                },
            )
            assert r.status_code == 200
        drain(db)  # the flagged conversation reaches finance's links (and the grooming queue)

        outcomes = []
        for i, amount in enumerate(["50.00", "80.00", "120.00"]):
            r = c.post(
                "/v1/transactions",
                json=_tx(
                    f"k{i}",
                    "kid-14",
                    "mule-ng",
                    amount,
                    t0 + timedelta(minutes=10 * i),
                    payer_country="US",
                    payee_country="NG",
                    method="gift_card",
                ),
            )
            assert r.status_code == 200, r.text
            outcomes.append(r.json())
        assert outcomes[0]["outcome"] == "approve"
        assert (
            "minor_payer" in outcomes[0]["indicators"] and "linked:payer.sextortion_target" in outcomes[0]["indicators"]
        )
        assert outcomes[0]["shadow"] and outcomes[0]["shadow"][0]["rule"] == "finance.shadow.minor_first_abroad"
        assert outcomes[1]["outcome"] == "hold" and outcomes[1]["rules"] == ["finance.sextortion.minor_flagged_burst"]
        assert "payee.freeze" in outcomes[1]["actions"]
        assert outcomes[2]["outcome"] == "hold"  # the payee is frozen now
        # The minor may not pay a new payee while the review is open.
        r = c.post(
            "/v1/transactions",
            json=_tx(
                "k9", "kid-14", "other-ph", "20.00", t0 + timedelta(minutes=40), payer_country="US", payee_country="PH"
            ),
        )
        assert r.json()["outcome"] == "decline" and r.json()["rules"] == ["finance.restriction.new_payee_limited"]

        # An adult paying a friend the same amounts at home is approved.
        for i, amount in enumerate(["50.00", "80.00", "120.00"]):
            r = c.post(
                "/v1/transactions",
                json=_tx(
                    f"d{i}",
                    "dad-1",
                    "friend-1",
                    amount,
                    t0 + timedelta(minutes=10 * i),
                    payer_country="US",
                    payee_country="US",
                ),
            )
            assert r.json()["outcome"] == "approve", r.json()

        # A hundred senders paying one payee small sums trips fan-in review (batch form).
        batch = [
            _tx(f"f{i}", f"sender-{i}", "collector", "5.00", t0 + timedelta(seconds=i), kind="p2p") for i in range(100)
        ]
        r = c.post("/v1/transactions/batch", json={"transactions": batch})
        results = r.json()["results"]
        assert [x["outcome"] for x in results[:49]] == ["approve"] * 49
        assert results[-1]["outcome"] == "review" and results[-1]["rules"] == ["finance.typology.fan_in"]
        drain(db)

        holds = {d["data"]["external_id"] for d in rec.actions("transaction.hold")}
        assert holds == {"k1", "k2"}
        assert [d["data"]["account_id"] for d in rec.actions("account.freeze_payouts")] == ["mule-ng"]
        # The conversation's own nudge, and the payment's intervention.
        nudges = [n for n in rec.actions("safety.nudge") if n["data"].get("transaction_id")]
        assert len(nudges) == 1 and nudges[0]["data"]["account_id"] == "kid-14"
        assert nudges[0]["data"]["conversation_id"] == "conv-s" and nudges[0]["data"]["transaction_id"]
        assert "Don't pay" in nudges[0]["data"]["message"]["title"]
        assert "take_it_down" in nudges[0]["data"]["message"]["links"]
        assert rec.bad_signatures == 0
    with db.session() as s:
        tasks = {t.subject_id: t for t in s.scalars(select(ReviewTask).where(ReviewTask.queue == "financial"))}
        assert set(tasks) >= {"mule-ng", "collector"}
        mule = tasks["mule-ng"]
        assert mule.subject_type == "account" and mule.child_safety and mule.severity == 4
        assert mule.details["conversation_id"] == "conv-s"
        assert len(mule.details["transaction_ids"]) == 2
        assert s.get(FinanceRestriction, ("mule-ng", "payouts_frozen")).status == "active"
        assert tasks["collector"].severity == 2  # a review, not a hold


def test_bad_input_and_idempotent_external_id(server: LiveServer, api_key: str, db: Database) -> None:
    now = datetime.now(UTC)
    with server.client(api_key) as c:

        def post(**over: object) -> tuple[int, str]:
            body = _tx("b1", "p-1", "q-1", "10.00", now - timedelta(minutes=1), kind="p2p") | over
            r = c.post("/v1/transactions", json=body)
            code = r.json().get("error", {}).get("code") if r.status_code >= 400 else None
            return r.status_code, str(code)

        assert post(amount="-5.00") == (422, "invalid_amount")
        assert post(amount="ten") == (422, "invalid_amount")
        assert post(amount="0.00") == (422, "invalid_amount")
        assert post(amount="1." + "1" * 30) == (422, "invalid_amount")
        assert post(amount="1.001") == (422, "invalid_amount")  # USD has 2 minor units
        assert post(amount=10.5)[0] == 422  # a JSON number, not a decimal string
        assert post(currency="XYZ") == (422, "unknown_currency")
        assert post(currency="ZMW") == (422, "unsupported_currency")
        assert post(payee_country="ZZ") == (422, "unknown_country")
        assert post(occurred_at=(now + timedelta(days=1)).isoformat()) == (422, "future_occurred_at")
        assert post(payee="p-1") == (422, "invalid_parties")
        assert post(amount="1000", currency="JPY")[0] == 200
        # The same external_id and body again: the same answer, nothing counted twice.
        first = c.post("/v1/transactions", json=_tx("dup", "p-2", "q-2", "10.00", now, kind="p2p"))
        again = c.post("/v1/transactions", json=_tx("dup", "p-2", "q-2", "10.00", now, kind="p2p"))
        assert first.status_code == again.status_code == 200 and first.json() == again.json()
        other = c.post("/v1/transactions", json=_tx("dup", "p-2", "q-2", "11.00", now, kind="p2p"))
        assert other.status_code == 409 and other.json()["error"]["code"] == "external_id_reused"
    with db.session() as s:
        assert s.get(Pair, ("p-2", "q-2")).count == 1
        assert len(s.scalars(select(Transaction).where(Transaction.external_id == "dup")).all()) == 1
        assert s.scalars(select(Transaction).where(Transaction.payer == "p-1")).all()[0].currency == "JPY"
