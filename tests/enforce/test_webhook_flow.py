"""The whole path over real HTTP: a decision -> actions delivered to the service's receiver on
loopback -> signature verified -> a 500 retried -> nothing done twice -> a worker killed
mid-delivery loses nothing; and the blocked-upload path through statement, appeal and restore."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from haven.accounts.models import Account
from haven.core import jobs
from haven.core.clock import new_id, now
from haven.core.db import Database
from haven.core.ledger import record_event
from haven.core.models import AuditRecord, Event, Job
from haven.enforce import webhooks
from haven.enforce.models import Delivery, Strike
from tests.conftest import LiveServer, make_key
from tests.enforce.doubles import SECRET, Receiver, receiver
from tests.helpers import encode, sample


def make_due(db: Database) -> None:
    """Skip the back-off wait: make every queued job ready now."""
    with db.session() as s:
        s.execute(update(Job).where(Job.status == "queued").values(run_at=now() - timedelta(seconds=1)))


def drain(db: Database, rounds: int = 20) -> None:
    for _ in range(rounds):
        make_due(db)
        if jobs.work(db, once=True) == 0:
            return


def configure(c: httpx.Client, rec: Receiver) -> None:
    r = c.put("/v1/webhook", json={"url": rec.url, "secret": SECRET})
    assert r.status_code == 200, r.text
    assert r.json() == {"url": rec.url, "secret_set": True, "source": "api"}
    assert SECRET not in c.get("/v1/webhook").text


def review_decision(db: Database, **data: Any) -> None:
    subject_type = data.pop("subject_type", "content")
    subject_id = data.pop("subject_id")
    actor = data.pop("actor", "staff:rev-1")
    body = {
        "decision_id": new_id(),
        "task_id": new_id(),
        "queue": "child_safety",
        "decision": "violation",
        "category": None,
        "classification": None,
        "annotations": [],
        "reviewer": actor.split(":", 1)[1],
        "uploader": None,
        "content_ids": [],
        "automated": False,
        "overturns": None,
    } | data
    with db.session() as s:
        record_event(s, "review.decision", subject_type=subject_type, subject_id=subject_id, actor=actor, data=body)


def upload(c: httpx.Client, name: str, uploader: str) -> dict[str, Any]:
    meta = {"uploader": uploader, "external_id": f"ext-{name}", "surface": "upload"}
    r = c.post("/v1/content", files={"file": ("x.jpg", encode(sample(name)))}, data={"metadata": json.dumps(meta)})
    assert r.status_code == 200, r.text
    return r.json()


def test_decision_to_signed_webhooks_with_retry_idempotency_and_crash(
    server: LiveServer, api_key: str, db: Database
) -> None:
    admin = make_key(db, ["admin"])
    with receiver() as rec, server.client(admin) as a, server.client(api_key) as c:
        configure(a, rec)
        item = upload(c, "coffee", "acct-1")
        assert item["verdict"]["action"] == "allow"
        rec.fail_next = 1  # the service is briefly broken
        decision_id = new_id()
        review_decision(
            db,
            subject_id=item["id"],
            decision_id=decision_id,
            category="ncii",
            uploader="acct-1",
            content_ids=[item["id"]],
        )
        drain(db)
        # Each action executed once, every request correctly signed, the 500 retried.
        assert rec.bad_signatures == 0
        types = sorted(e["type"] for e in rec.executed)
        assert types == ["account.restrict", "content.remove", "notice.deliver"]
        keys = [r["key"] for r in rec.requests]
        assert len(keys) == 4 and len(set(keys)) == 3  # one key was sent twice: the retried one
        remove = rec.actions("content.remove")[0]["data"]
        assert remove["content_id"] == item["id"] and remove["external_id"] == "ext-coffee"
        restrict = rec.actions("account.restrict")[0]["data"]
        assert restrict["features"] == ["messaging", "uploads"] and restrict["until"]
        with db.session() as s:
            assert s.get(Account, "acct-1").state == "restricted"  # type: ignore[union-attr]
            rows = s.scalars(select(Delivery)).all()
            assert {r.status for r in rows} == {"delivered"}
            assert max(r.attempts for r in rows) == 2

        # The same decision delivered again (a redelivered event) sends nothing new.
        review_decision(
            db,
            subject_id=item["id"],
            decision_id=decision_id,
            category="ncii",
            uploader="acct-1",
            content_ids=[item["id"]],
        )
        drain(db)
        assert len(rec.executed) == 3
        with db.session() as s:
            assert len(s.scalars(select(Delivery)).all()) == 3

        # A worker is killed mid-delivery: it claimed the job and sent the request, but died before
        # recording the answer. When the lease expires, another worker retakes it; the receiver
        # sees the same idempotency key again and does not act twice.
        other = upload(c, "chelsea", "acct-2")
        review_decision(
            db, subject_id=other["id"], category="adult_nudity", uploader="acct-2", content_ids=[other["id"]]
        )
        assert jobs.work(db, once=True, kinds=["event:enforcement"]) == 1
        job = jobs.claim_next(db, "doomed-worker", kinds=[webhooks.JOB_KIND])
        assert job is not None
        with db.session() as s:
            d = s.get(Delivery, job.payload["delivery_id"])
            assert d is not None
            target = webhooks.endpoint(s)
            assert target is not None
            sent = webhooks.send(target[0], target[1], d, timeout=5)
        assert sent.status_code == 200
        executed_before = len(rec.executed)
        drain(db)  # the other deliveries go out; the abandoned job is still leased to the dead worker
        with db.session() as s:
            assert s.scalar(select(Job.status).where(Job.id == job.id)) == "running"
            assert s.get(Delivery, job.payload["delivery_id"]).status == "pending"  # type: ignore[union-attr]
            # the lease of the dead worker expires
            s.execute(update(Job).where(Job.id == job.id).values(locked_until=now() - timedelta(seconds=1)))
        drain(db)
        with db.session() as s:
            d = s.get(Delivery, job.payload["delivery_id"])
            assert d is not None and d.status == "delivered"
            assert s.scalar(select(Job.status).where(Job.id == job.id)) == "done"
        dup = [r for r in rec.requests if r["key"] == d.idempotency_key]
        assert len(dup) == 2  # sent by the dead worker, and again after the lease expired
        assert len([e for e in rec.executed if e["idempotency_key"] == d.idempotency_key]) == 1
        assert len(rec.executed) == executed_before + 1  # acct-2's other action (its notice), once


def test_dead_letter_and_replay_over_the_api(server: LiveServer, db: Database) -> None:
    admin = make_key(db, ["admin"])
    with receiver() as rec, server.client(admin) as a:
        configure(a, rec)
        with db.session() as s:
            webhooks.deliver(
                s,
                "tos.updated",
                {"version": "9"},
                subject_type="terms",
                subject_id="9",
                actor="cli",
                idempotency_key="k-dead",
            )
            s.execute(update(Delivery).values(max_attempts=2))
        rec.fail_next = 5
        drain(db)
        dead = a.get("/v1/webhook/deliveries", params={"status": "dead"}).json()
        assert [d["idempotency_key"] for d in dead] == ["k-dead"]
        assert dead[0]["attempts"] == 2 and dead[0]["last_error"] == "http_status"
        assert dead[0]["last_status"] == 500
        assert rec.executed == []
        rec.fail_next = 0
        r = a.post(f"/v1/webhook/deliveries/{dead[0]['id']}/replay")
        assert r.status_code == 200 and r.json()["status"] == "pending"
        assert a.post(f"/v1/webhook/deliveries/{dead[0]['id']}/replay").status_code == 422  # not dead now
        drain(db)
        assert [e["idempotency_key"] for e in rec.executed] == ["k-dead"]
        assert a.get("/v1/webhook/deliveries", params={"status": "dead"}).json() == []
        assert a.post("/v1/webhook/deliveries/nope/replay").json()["error"]["code"] == "delivery_not_found"
        metrics = a.get("/metrics").text
        assert 'haven_webhook_attempts_total{action="tos.updated",outcome="dead"}' in metrics
    with db.session() as s:
        assert s.scalar(select(AuditRecord).where(AuditRecord.action == "webhook.replay")) is not None
        assert SECRET not in json.dumps([e.data for e in s.scalars(select(Event))])


def test_blocked_upload_statement_appeal_and_restore(server: LiveServer, api_key: str, db: Database) -> None:
    """Done means: for a blocked upload, remove the content, act on the account, show the user a
    complete statement of reasons, accept their appeal, and restore everything when upheld."""
    admin = make_key(db, ["admin"])
    original = encode(sample("astronaut"), quality=95)
    with receiver() as rec, server.client(admin) as a, server.client(api_key) as c:
        configure(a, rec)
        assert c.post("/v1/banks", json={"name": "known", "kind": "known_csam"}).status_code == 201
        h = c.post("/v1/content", files={"file": ("x.jpg", original)}).json()["hashes"]
        c.post("/v1/banks/known/entries", json={"entries": [{"signal_type": "pdq", "value": h["pdq"]}]})
        meta = {"uploader": "acct-9", "external_id": "up-1"}
        r = c.post("/v1/content", files={"file": ("y.jpg", original)}, data={"metadata": json.dumps(meta)})
        body = r.json()
        assert body["verdict"]["action"] == "block" and body["verdict"]["rule"] == "known_material.block"
        drain(db)
        assert sorted(e["type"] for e in rec.executed) == ["account.terminate", "content.remove", "notice.deliver"]
        with db.session() as s:  # two uploads, but enforcement only had work for the blocked one
            kinds = [j.kind for j in s.scalars(select(Job))]
            assert kinds.count("event:enforcement-verdicts") == 1
        notice = rec.actions("notice.deliver")[0]["data"]
        decision_id = notice["decision_id"]
        # A reviewer then confirms the automated decision (say, before a CyberTipline report):
        # nothing is done twice, and the decision now names its human decider too.
        confirming = new_id()
        review_decision(
            db,
            subject_id=body["id"],
            decision_id=confirming,
            category="csam",
            uploader="acct-9",
            content_ids=[body["id"]],
            actor="staff:rev-1",
        )
        drain(db)
        assert len(rec.executed) == 3
        with db.session() as s:
            from haven.enforce.decisions import find_decision

            confirmed = find_decision(s, confirming)
            assert confirmed is not None and confirmed.id == decision_id and "staff:rev-1" in confirmed.deciders
            assert len(s.scalars(select(Strike)).all()) == 1
        st = notice["statement"]
        # Art 17(3): restriction, facts, notice or not, automation, ground, redress.
        assert st["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
        assert st["decision_account"] == "DECISION_ACCOUNT_TERMINATED"
        assert st["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
        assert "2011/93/EU" in st["illegal_content_legal_ground"]
        assert st["source_type"] == "SOURCE_VOLUNTARY" and st["automated_detection"] == "Yes"
        assert st["automated_decision"] == "AUTOMATED_DECISION_FULLY"
        assert st["category"] == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
        assert "acct-9" not in json.dumps(st) and body["id"] not in json.dumps(st)
        for phrase in (
            "removed 1 item",
            "closed your account",
            "clause 3.1",
            "Appeal",
            "dispute settlement",
            "did not follow a report",
            "automated means",
        ):
            assert phrase in notice["text"], phrase
        assert "<h2>Your options</h2>" in notice["html"]
        shown = c.get(f"/v1/decisions/{decision_id}/statement").json()
        assert shown["text"] == notice["text"] and shown["fields"]["puid"] == st["puid"]
        assert c.get("/v1/accounts/acct-9/enforcement").json()["state"] == "terminated"

        # The user appeals; only once; not as someone else.
        bad = c.post("/v1/appeals", json={"decision_id": decision_id, "appellant": "acct-x", "statement": "x"})
        assert bad.status_code == 403
        r = c.post(
            "/v1/appeals",
            json={"decision_id": decision_id, "appellant": "acct-9", "statement": "This is a photo of an astronaut."},
        )
        assert r.status_code == 201, r.text
        appeal = r.json()
        again = c.post("/v1/appeals", json={"decision_id": decision_id, "appellant": "acct-9", "statement": "again"})
        assert again.status_code == 409 and again.json()["error"]["code"] == "appeal_exists"
        with db.session() as s:
            filed = s.scalar(select(Event).where(Event.type == "appeal.filed"))
            assert filed is not None and filed.data["decision_id"] == decision_id
        # A reviewer decides it through the review console's decision event, and upholds it.
        review_decision(
            db,
            subject_id=body["id"],
            decision="no_violation",
            appeal_id=appeal["id"],
            actor="staff:rev-2",
            classification="the image is a benign photograph",
            overturns=decision_id,
            queue="appeals",
        )
        drain(db)
        assert c.get(f"/v1/appeals/{appeal['id']}").json()["status"] == "upheld"
        restored = rec.actions("content.restore")
        assert [e["data"]["content_id"] for e in restored] == [body["id"]]
        reinstated = rec.actions("account.reinstate")[0]["data"]
        assert reinstated["account_id"] == "acct-9" and reinstated["state"] == "active"
        outcome = [e["data"] for e in rec.actions("notice.deliver") if e["data"]["kind"] == "appeal_outcome"]
        assert outcome and "reversed" in outcome[0]["text"] and "dispute settlement" in outcome[0]["text"]
        assert c.get("/v1/accounts/acct-9/enforcement").json()["state"] == "active"
        with db.session() as s:
            assert all(x.removed_at is not None for x in s.scalars(select(Strike)))
        assert rec.bad_signatures == 0


def test_actions_wait_without_attempts_until_an_endpoint_is_configured(
    server: LiveServer, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 18 item 8: with no endpoint, actions wait in the outbox (no attempt counted, no
    retries burning towards dead-lettering), the log says why once, and configuring an endpoint
    sends each of them once."""
    admin = make_key(db, ["admin"])
    with db.session() as s:
        for i in range(3):
            webhooks.deliver(
                s,
                "tos.updated",
                {"version": str(i)},
                subject_type="terms",
                subject_id=str(i),
                actor="cli",
                idempotency_key=f"k-wait-{i}",
            )
    with caplog.at_level("WARNING", logger="haven.enforce.webhooks"):
        webhooks._told_no_endpoint.clear()
        drain(db)
        drain(db)
    told = [r for r in caplog.records if "no endpoint is configured" in r.getMessage()]
    assert len(told) == 1
    assert not [r for r in caplog.records if r.getMessage() == "webhook delivery failed"]
    with db.session() as s:
        rows = s.scalars(select(Delivery).order_by(Delivery.idempotency_key)).all()
        assert [(r.status, r.attempts, r.last_error) for r in rows] == [("pending", 0, "no_endpoint")] * 3
    with receiver() as rec, server.client(admin) as a:
        configure(a, rec)
        drain(db)
        assert sorted(e["idempotency_key"] for e in rec.executed) == ["k-wait-0", "k-wait-1", "k-wait-2"]
        assert len(rec.requests) == 3  # each once
    with db.session() as s:
        assert {(r.status, r.attempts) for r in s.scalars(select(Delivery))} == {("delivered", 1)}


def test_every_action_type_has_a_label_people_read() -> None:
    from haven.enforce.webhooks import ACTION_LABELS, ACTION_TYPES

    assert set(ACTION_LABELS) == set(ACTION_TYPES)
    assert all("." not in label and "_" not in label for label in ACTION_LABELS.values())
