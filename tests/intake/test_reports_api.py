"""User reports (DSA Art 16) over HTTP: anonymous only for child safety, merging into cases,
priority, trusted flaggers counted apart, outcome told, unfounded reporters (Art 23)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from haven.core.db import Database
from haven.core.models import AuditRecord, Event
from haven.enforce.settings import get_enforce_settings
from tests.conftest import LiveServer, make_key
from tests.enforce.doubles import SECRET, receiver
from tests.enforce.test_webhook_flow import drain, review_decision


def report(c: Any, **kw: Any) -> Any:
    body = {
        "reporter": {"id": "rep-1"},
        "target": {"type": "content", "id": "c-1", "location_url": "https://service.example/p/1"},
        "category": "adult_nudity",
        "explanation": "this breaks the rules",
        "good_faith": True,
    } | kw
    return c.post("/v1/reports", json=body)


@pytest.fixture
def trusted(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("HAVEN_TRUSTED_FLAGGERS", '["hotline-1"]')
    get_enforce_settings.cache_clear()
    yield
    get_enforce_settings.cache_clear()


def test_reports_merge_prioritise_and_tell_the_outcome(
    server: LiveServer, api_key: str, db: Database, trusted: None
) -> None:
    admin = make_key(db, ["admin"])
    with receiver() as rec, server.client(api_key) as c, server.client(admin) as a:
        a.put("/v1/webhook", json={"url": rec.url, "secret": SECRET})
        # Anonymous: only for child-safety categories; good faith is required.
        anon = report(c, reporter=None)
        assert anon.status_code == 422 and anon.json()["error"]["code"] == "reporter_required"
        assert report(c, good_faith=False).json()["error"]["code"] == "good_faith_required"
        assert report(c, category="nonsense").json()["error"]["code"] == "unknown_category"
        first = report(c, notify_outcome=True)
        assert first.status_code == 201 and first.json()["merged"] is False and first.json()["priority"] == 3
        merged = report(c, reporter={"id": "hotline-1"})
        assert merged.json()["case_id"] == first.json()["case_id"] and merged.json()["merged"] is True
        assert merged.json()["trusted_flagger"] is True and merged.json()["priority"] == 2
        child = report(c, reporter=None, category="csam", target={"type": "content", "id": "c-2"})
        assert child.status_code == 201 and child.json()["priority"] == 1
        urgent = report(c, category="grooming", imminent_risk=True, target={"type": "account", "id": "acct-5"})
        assert urgent.json()["priority"] == 0
        queue = a.get("/v1/report-cases").json()
        assert [(q["target_id"], q["priority"]) for q in queue] == [("acct-5", 0), ("c-2", 1), ("c-1", 2)]
        case = next(q for q in queue if q["target_id"] == "c-1")
        assert case["reports_count"] == 2 and case["trusted_reports"] == 1
        with db.session() as s:
            evs = s.scalars(select(Event).where(Event.type == "user_report.received")).all()
            assert len(evs) == 4 and {e.data["case_id"] for e in evs} == {q["id"] for q in queue}
            assert any(e.data["trusted_flagger"] for e in evs)
            rules = {e.data["target_id"]: e.data["rule"] for e in evs}
            assert rules["c-2"] == "reports.child_safety" and rules["acct-5"] == "reports.child_safety"
            assert rules["c-1"] == "no_match.allow"
        # The review console decides the case: no violation. The reporter who asked is told.
        review_decision(
            db, subject_type="notice_case", subject_id=case["id"], decision="no_violation", category="adult_nudity"
        )
        drain(db)
        told = [e["data"] for e in rec.actions("notice.deliver") if e["data"]["kind"] == "report_outcome"]
        assert len(told) == 1 and told[0]["account_id"] == "rep-1" and told[0]["outcome"] == "no_violation"
        assert "does not break" in told[0]["text"]
        assert a.get("/v1/report-cases", params={"status": "closed"}).json()[0]["outcome"] == "no_violation"


def test_unfounded_reporters_are_warned_then_suspended(server: LiveServer, api_key: str, db: Database) -> None:
    admin = make_key(db, ["admin"])
    with server.client(api_key) as c, server.client(admin) as a:
        ids = [
            report(c, reporter={"id": "troll"}, target={"type": "content", "id": f"x-{i}"}).json()["report_id"]
            for i in range(3)
        ]
        r = a.post("/v1/reporters/troll/unfounded", json={"reason": "mass reports of holiday photos"})
        assert (
            r.status_code == 200 and r.json()["action"] == "warned" and sorted(r.json()["invalidated"]) == sorted(ids)
        )
        assert a.get("/v1/report-cases").json() == []  # their cases held nothing else
        assert report(c, reporter={"id": "troll"}).status_code == 201  # warned, not yet suspended
        r = a.post("/v1/reporters/troll/unfounded", json={"reason": "again"})
        assert r.json()["action"] == "suspended" and r.json()["suspended_until"]
        blocked = report(c, reporter={"id": "troll"})
        assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "reporting_suspended"
        assert c.post("/v1/reporters/troll/unfounded", json={"reason": "x"}).status_code == 403  # admin only
    with db.session() as s:
        audits = s.scalars(select(AuditRecord).where(AuditRecord.action == "reports.invalidate")).all()
        assert len(audits) == 2 and sorted(audits[0].details["report_ids"]) == sorted(ids)
        assert s.scalar(select(Event).where(Event.type == "reporter.suspended")) is not None


def test_report_by_the_services_own_id_then_violation_tells_the_reporter(
    server: LiveServer, api_key: str, db: Database
) -> None:
    from tests.enforce.test_webhook_flow import upload

    admin = make_key(db, ["admin"])
    with receiver() as rec, server.client(api_key) as c, server.client(admin) as a:
        a.put("/v1/webhook", json={"url": rec.url, "secret": SECRET})
        item = upload(c, "coffee", "poster-1")  # external_id "ext-coffee"
        r = report(c, target={"type": "content", "id": "ext-coffee"}, category="ncii", notify_outcome=True)
        case_id = r.json()["case_id"]
        assert a.get("/v1/report-cases").json()[0]["target_id"] == item["id"]
        # The reviewer decides on the content; the case closes; the decision is an Art 16 one.
        review_decision(db, subject_id=item["id"], category="ncii", uploader="poster-1", content_ids=[item["id"]])
        drain(db)
        told = [e["data"] for e in rec.actions("notice.deliver") if e["data"]["kind"] == "report_outcome"]
        assert len(told) == 1 and told[0]["outcome"] == "violation" and told[0]["case_id"] == case_id
        statement = [e["data"] for e in rec.actions("notice.deliver") if e["data"]["kind"] == "statement_of_reasons"]
        assert statement[0]["statement"]["source_type"] == "SOURCE_ARTICLE_16"
        assert "This followed a report" in statement[0]["text"]


def test_a_reporter_appeals_a_decision_not_to_act_and_wins(server: LiveServer, api_key: str, db: Database) -> None:
    """Art 20(1)(a): notifiers may complain against the decision taken on their notice."""
    from tests.enforce.test_webhook_flow import upload

    admin = make_key(db, ["admin"])
    with receiver() as rec, server.client(api_key) as c, server.client(admin) as a:
        a.put("/v1/webhook", json={"url": rec.url, "secret": SECRET})
        item = upload(c, "rocket", "poster-2")
        case_id = report(
            c,
            reporter={"id": "rep-7"},
            target={"type": "content", "id": item["id"]},
            category="adult_nudity",
            notify_outcome=True,
        ).json()["case_id"]
        review_decision(
            db, subject_type="notice_case", subject_id=case_id, decision="no_violation", actor="staff:first"
        )
        drain(db)
        told = next(e["data"] for e in rec.actions("notice.deliver") if e["data"]["kind"] == "report_outcome")
        decision_id = told["decision_id"]
        assert decision_id in told["text"]
        # The uploader cannot appeal a decision that did not act against them; the reporter can.
        nope = c.post("/v1/appeals", json={"decision_id": decision_id, "appellant": "poster-2", "statement": "?"})
        assert nope.status_code == 403
        r = c.post("/v1/appeals", json={"decision_id": decision_id, "appellant": "rep-7", "statement": "look again"})
        assert r.status_code == 201, r.text
        review_decision(
            db,
            subject_id=item["id"],
            decision="violation",
            appeal_id=r.json()["id"],
            actor="staff:second",
            category="adult_nudity",
        )
        drain(db)
        assert c.get(f"/v1/appeals/{r.json()['id']}").json()["status"] == "upheld"
        assert [e["data"]["content_id"] for e in rec.actions("content.remove")] == [item["id"]]
        outcome = next(e["data"] for e in rec.actions("notice.deliver") if e["data"]["kind"] == "appeal_outcome")
        assert outcome["account_id"] == "rep-7" and "acted on what you reported" in outcome["text"]
        standing = c.get("/v1/accounts/poster-2/enforcement").json()
        assert [d["outcome"] for d in standing["decisions"]] == ["no_violation", "violation"]
