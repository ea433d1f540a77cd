"""The issue's first "done means" line, over HTTP on a real server (SQLite and PostgreSQL): a
self-declared adult whose chat says "im 13" triggers re-assurance; an id_document result of band
13_15 makes protections strict; an unconnected adult's message to that account is held, a
connected one's passes; the guardian summary shows the new contact but no text; revoking consent
stops the summary (403). And the refusals: nothing stored for a bad signal."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from haven.core.db import Database
from haven.core.jobs import work
from haven.core.models import AuditRecord, Event
from haven.enforce.models import Delivery
from haven.review.models import ReviewTask
from haven.youth.models import AgeSignal
from tests.conftest import LiveServer


def _drain(db: Database) -> None:
    for _ in range(50):
        if not work(db, once=True):
            return


def _msg(c: httpx.Client, conv: str, sender: str, to: str, text: str, i: int) -> dict[str, Any]:
    r = c.post(
        "/v1/messages",
        json={"message_id": f"{conv}-{i}", "conversation_id": conv, "sender": sender, "recipients": [to], "text": text},
    )
    assert r.status_code == 200, r.text
    return r.json()


def _deliveries(db: Database, action: str) -> list[Delivery]:
    with db.session() as s:
        rows = list(s.scalars(select(Delivery).where(Delivery.action_type == action).order_by(Delivery.id)))
        s.expunge_all()
        return rows


def test_done_means_end_to_end(server: LiveServer, db: Database, api_key: str) -> None:
    c = server.client(api_key)
    # A self-declared adult...
    assert c.put("/v1/accounts/kid", json={"age_band": "adult"}).status_code == 200
    assert c.put("/v1/accounts/friend", json={"age_band": "adult"}).status_code == 200
    _drain(db)
    age = c.get("/v1/accounts/kid/age").json()
    assert (age["age_band"], age["level"], age["method"]) == ("adult", "asserted", "self_declaration")
    # ...whose chat says "im 13" triggers re-assurance, with a reason.
    _msg(c, "c-kid", "kid", "friend", "hey whats up", 1)
    _msg(c, "c-kid", "kid", "friend", "im 13 btw", 2)
    _drain(db)
    asks = [d.payload for d in _deliveries(db, "age.reassurance_requested") if d.payload["account_id"] == "kid"]
    assert "age_stated_in_chat" in {a["reason_code"] for a in asks}
    stated = next(a for a in asks if a["reason_code"] == "age_stated_in_chat")
    assert "stated an age of 13" in stated["reason"] and "im 13" not in stated["reason"]
    pending = c.get("/v1/accounts/kid/age").json()["reassurance_pending"]
    assert {p["reason_code"] for p in pending} >= {"age_stated_in_chat"}
    # The inference alone never changes the band.
    assert c.get("/v1/accounts/kid/age").json()["age_band"] == "adult"
    assert c.get("/v1/accounts/kid/protections").json()["settings"]["dm_from"] == "everyone"

    # An id_document result of band 13_15 makes protections strict.
    r = c.post(
        "/v1/accounts/kid/age-signals",
        json={
            "method": "id_document",
            "provider": "acme",
            "level": "enhanced",
            "age_band": "13_15",
            "observed_at": "2026-12-01T10:00:00Z",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["assured"] == {"age_band": "13_15", "level": "enhanced", "method": "id_document"}
    p = c.get("/v1/accounts/kid/protections").json()
    assert p["age_band"] == "13_15"
    assert p["settings"]["dm_from"] == "connections" and p["settings"]["discoverable"] is False
    assert p["settings"]["location_sharing"] is False and p["settings"]["connections_visible"] is False
    assert p["rules"]["dm_from"] == "protections.13_15"
    changed = [d.payload for d in _deliveries(db, "youth.protections_changed") if d.payload["account_id"] == "kid"]
    assert changed and changed[-1]["settings"]["dm_from"] == "connections"
    # A later self-declaration does not undo the assured band.
    assert c.put("/v1/accounts/kid", json={"age_band": "adult"}).json()["age_band"] == "13_15"
    _drain(db)
    assert c.get("/v1/accounts/kid/age").json()["age_band"] == "13_15"
    # The re-assurance requests are resolved by the stronger result.
    assert c.get("/v1/accounts/kid/age").json()["reassurance_pending"] == []

    # An unconnected adult's message to that account is held; a connected one's passes.
    c.put("/v1/accounts/stranger", json={"age_band": "adult"})
    c.put("/v1/accounts/uncle", json={"age_band": "adult"})
    assert c.put("/v1/accounts/kid/connections/uncle", json={"kind": "friend"}).status_code == 200
    held = _msg(c, "c-stranger", "stranger", "kid", "hi there", 1)
    assert held["verdict"]["action"] == "hold" and held["verdict"]["rule"] == "youth.unconnected_adult_to_minor"
    passed = _msg(c, "c-uncle", "uncle", "kid", "see you at dinner tonight", 1)
    assert passed["verdict"]["action"] == "allow", passed["verdict"]
    # Removing the connection holds again.
    assert c.delete("/v1/accounts/kid/connections/uncle").json()["removed"] is True
    assert _msg(c, "c-uncle", "uncle", "kid", "ok?", 2)["verdict"]["action"] == "hold"
    c.put("/v1/accounts/kid/connections/uncle")

    # A guardian link the teen confirms; the summary shows the new contact but no text.
    c.put("/v1/accounts/mum", json={"age_band": "adult"})
    g = c.post("/v1/guardianships", json={"guardian_id": "mum", "teen_id": "kid"})
    assert g.status_code == 201, g.text
    link, code = g.json()["id"], g.json()["code"]
    assert c.get(f"/v1/guardianships/{link}/summary", params={"guardian_id": "mum"}).status_code == 403
    bad = c.post(
        f"/v1/guardianships/{link}/confirm", json={"teen_id": "kid", "code": "00000000" if code != "00000000" else "1"}
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "wrong_code"
    assert c.post(f"/v1/guardianships/{link}/confirm", json={"teen_id": "mum", "code": code}).status_code == 403
    ok = c.post(f"/v1/guardianships/{link}/confirm", json={"teen_id": "kid", "code": code})
    assert ok.status_code == 200 and ok.json()["status"] == "active"
    c.post("/v1/accounts/kid/activity", json={"kind": "time_spent", "amount": 42})
    s = c.get(f"/v1/guardianships/{link}/summary", params={"guardian_id": "mum"})
    assert s.status_code == 200, s.text
    body = s.json()
    contacts = {x["account_id"]: x for x in body["new_contacts"]}
    assert {"uncle", "stranger"} <= set(contacts) and contacts["uncle"]["connection"] is True
    assert body["time_spent_minutes"] == 42
    raw = s.text
    for text in ("see you at dinner tonight", "hi there", "im 13"):
        assert text not in raw
    with db.session() as ses:
        reads = ses.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(AuditRecord.action == "guardian.summary_read", AuditRecord.object_id == "kid")
        )
    assert reads == 1
    # The teen sees the link; revoking consent (by the teen) stops the summary.
    links = c.get("/v1/accounts/kid/guardianships").json()["guardianships"]
    assert [(x["guardian_id"], x["status"]) for x in links] == [("mum", "active")]
    assert c.post(f"/v1/guardianships/{link}/revoke", json={"by": "stranger"}).status_code == 403
    assert c.post(f"/v1/guardianships/{link}/revoke", json={"by": "kid"}).json()["status"] == "revoked"
    gone = c.get(f"/v1/guardianships/{link}/summary", params={"guardian_id": "mum"})
    assert gone.status_code == 403 and gone.json()["error"]["code"] == "guardianship_inactive"
    assert c.get("/v1/accounts/kid/guardianships").json()["guardianships"][0]["status"] == "revoked"
    _drain(db)


def test_bad_signals_are_refused_and_nothing_is_stored(server: LiveServer, db: Database, api_key: str) -> None:
    c = server.client(api_key)
    base = {
        "method": "id_document",
        "provider": "acme",
        "level": "enhanced",
        "age_band": "13_15",
        "observed_at": "2026-12-01T10:00:00Z",
    }
    cases = [
        ({**base, "method": "palm_reading"}, "unknown_method"),
        ({**base, "expires_at": "2026-11-30T00:00:00Z"}, "signal_expired"),
        ({**base, "observed_at": "2019-01-01T00:00:00Z"}, "signal_expired"),  # past its method's validity
        ({**base, "date_of_birth": "2012-05-01"}, "personal_data_refused"),
        ({**base, "observed_at": "2030-01-01T00:00:00Z"}, "observed_in_future"),
        ({k: v for k, v in base.items() if k != "age_band"}, "invalid_age_result"),
    ]
    for body, code in cases:
        r = c.post("/v1/accounts/x/age-signals", json=body)
        assert 400 <= r.status_code < 500, (code, r.status_code, r.text)
        assert r.json()["error"]["code"] == code, r.text
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AgeSignal)) == 0
        assert s.scalar(select(func.count()).select_from(Event).where(Event.type.like("age.%"))) == 0


def test_many_held_minors_raise_a_review_task(server: LiveServer, db: Database, api_key: str) -> None:
    c = server.client(api_key)
    c.put("/v1/accounts/spammer", json={"age_band": "adult"})
    for i in range(3):
        c.put(f"/v1/accounts/teen{i}", json={"age_band": "13_15"})
        assert _msg(c, f"fan-{i}", "spammer", f"teen{i}", "hey", 1)["verdict"]["action"] == "hold"
    _drain(db)
    with db.session() as s:
        tasks = list(
            s.scalars(
                select(ReviewTask).where(ReviewTask.subject_type == "account", ReviewTask.subject_id == "spammer")
            )
        )
    assert len(tasks) == 1 and tasks[0].queue == "grooming" and "3 minors" in tasks[0].reason


def test_a_minor_claiming_adulthood_and_a_child_report_ask_for_reassurance(
    server: LiveServer, db: Database, api_key: str
) -> None:
    c = server.client(api_key)
    r = c.post(
        "/v1/accounts/teen-a/age-signals",
        json={
            "method": "facial_estimation",
            "provider": "est",
            "level": "enhanced",
            "age_band": "13_15",
            "observed_at": "2026-12-01T09:00:00Z",
        },
    )
    assert r.status_code == 201
    c.put("/v1/accounts/peer", json={"age_band": "13_15"})
    _msg(c, "c-claim", "teen-a", "peer", "im 19 actually", 1)
    _drain(db)
    codes = {p["reason_code"] for p in c.get("/v1/accounts/teen-a/age").json()["reassurance_pending"]}
    assert "age_stated_in_chat" in codes
    assert c.get("/v1/accounts/teen-a/age").json()["age_band"] == "13_15"  # the claim changes nothing by itself
    r = c.post("/v1/accounts/grown/child-reports", json={"reporter": "someone"})
    assert r.status_code == 201 and r.json()["reassurance_requested"] is True
    again = c.post("/v1/accounts/grown/child-reports", json={"reporter": "other"}).json()
    assert again["reassurance_requested"] is False  # one pending request per reason
    asks = [d.payload for d in _deliveries(db, "age.reassurance_requested") if d.payload["account_id"] == "grown"]
    assert [a["reason_code"] for a in asks] == ["user_report_child"]
