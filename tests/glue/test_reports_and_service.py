"""User reports reach reviewers: one task per report case in `user_reports`, imminent risk and
child safety first, trusted flaggers before the rest, a merged report raising its case's task;
and the exclusions that keep an appeal away from its original deciders (claim and decision)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from haven.core.db import Database
from haven.core.errors import Forbidden
from haven.enforce.settings import get_enforce_settings
from haven.review.models import ReviewTask
from haven.review.service import Reviewer, add_or_raise_task, claim, claim_next, decide
from tests.conftest import LiveServer
from tests.enforce.test_webhook_flow import drain
from tests.review.console_client import ConsoleClient
from tests.review.fixtures import PASSWORD, make_staff

CS = frozenset({"child_safety_reviewer", "senior"})


@pytest.fixture
def trusted(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("HAVEN_TRUSTED_FLAGGERS", '["hotline-1"]')
    get_enforce_settings.cache_clear()
    yield
    get_enforce_settings.cache_clear()


def _report(c: Any, target: dict[str, str], category: str, **kw: Any) -> dict[str, Any]:
    body = {
        "reporter": {"id": "rep-1"},
        "target": target,
        "category": category,
        "explanation": "please look at this",
        "good_faith": True,
    } | kw
    r = c.post("/v1/reports", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_user_reports_become_prioritised_tasks(server: LiveServer, api_key: str, db: Database, trusted: None) -> None:
    _staff_id, secret = make_staff(db, "senior@example.org", sorted(CS))
    with server.client(api_key) as c:
        plain = _report(c, {"type": "content", "id": "c-1"}, "adult_nudity")
        other = _report(c, {"type": "account", "id": "acct-7"}, "other", reporter={"id": "rep-2"})
        drain(db)
        with db.session() as s:
            (t1,) = s.scalars(select(ReviewTask).where(ReviewTask.subject_id == plain["case_id"])).all()
            assert (t1.queue, t1.subject_type, t1.severity, t1.child_safety) == (
                "user_reports",
                "notice_case",
                1,
                False,
            )
            first_rank = t1.rank_at
        merged = _report(c, {"type": "content", "id": "c-1"}, "adult_nudity", reporter={"id": "hotline-1"})
        assert merged["case_id"] == plain["case_id"] and merged["trusted_flagger"] is True
        child = _report(c, {"type": "content", "id": "c-2"}, "csam", reporter=None)
        urgent = _report(c, {"type": "account", "id": "acct-5"}, "grooming", imminent_risk=True)
        drain(db)
    with db.session() as s:
        tasks = {t.subject_id: t for t in s.scalars(select(ReviewTask).where(ReviewTask.queue == "user_reports"))}
        assert set(tasks) == {plain["case_id"], other["case_id"], child["case_id"], urgent["case_id"]}
        raised = tasks[plain["case_id"]]  # one task per case; the trusted flagger's report raised it
        assert raised.severity == 2 and raised.rank_at < first_rank and raised.details["trusted_flagger"] is True
        assert len(raised.details["merged_sources"]) == 1
        assert tasks[child["case_id"]].child_safety and tasks[child["case_id"]].severity == 3
        assert tasks[urgent["case_id"]].severity == 4 and tasks[urgent["case_id"]].uploader == "acct-5"
        assert "imminent risk" in tasks[urgent["case_id"]].reason
    # "Next" serves imminent risk, then child safety, then the trusted flagger's case, then the rest.
    order = []
    for i in range(4):
        with db.session() as s:
            task = claim_next(s, Reviewer(f"r{i}", CS, True), "user_reports")
            assert task is not None
            order.append(task.subject_id)
    assert order == [urgent["case_id"], child["case_id"], plain["case_id"], other["case_id"]]
    # Someone without the child-safety role never gets the child-safety reports.
    with db.session() as s:
        for t in s.scalars(select(ReviewTask)):
            t.claimed_by, t.lease_until = None, None
    with db.session() as s:
        got = claim_next(s, Reviewer("plain", frozenset({"reviewer"}), False), "user_reports")
        assert got is not None and got.subject_id == plain["case_id"]
    # The task page shows what the reporters said, the imminent-risk report first.
    with db.session() as s:
        urgent_task = s.scalars(select(ReviewTask).where(ReviewTask.subject_id == urgent["case_id"])).one()
    console = ConsoleClient(server.url)
    console.sign_in("senior@example.org", PASSWORD, secret)
    page = console.get(f"/console/tasks/{urgent_task.id}")
    assert page.status_code == 200 and "Reports (1)" in page.text
    assert "<strong>imminent risk</strong>" in page.text and "please look at this" in page.text
    merged_task = console.get(f"/console/tasks/{tasks[plain['case_id']].id}").text
    assert "Reports (2)" in merged_task and merged_task.index("trusted flagger</strong>") < merged_task.index("rep-1")
    console.close()


def test_appeal_exclusions_hold_for_every_original_decider(db: Database, settings: Any) -> None:
    with db.session() as s:
        task = add_or_raise_task(
            s,
            queue="appeals",
            subject_type="account",
            subject_id="acct-1",
            severity=1,
            exclude_staff="alice",
            details={"appeal_id": "AP1", "exclude_staff": ["alice", "bob"]},
            source_key="appeal:AP1",
        )
        assert task is not None
        tid = task.id
    alice, bob, carol = (Reviewer(n, frozenset({"senior"}), False) for n in ("alice", "bob", "carol"))
    with db.session() as s:
        assert claim_next(s, alice, "appeals") is None
        assert claim_next(s, bob, "appeals") is None  # only in the details: refused when claiming
        assert claim(s, tid, bob) is False
    with db.session() as s:  # bob somehow holds it (say, an old lease): deciding is refused too
        t = s.get(ReviewTask, tid)
        assert t is not None
        from datetime import timedelta

        from haven.core.clock import now

        t.claimed_by, t.lease_until = "bob", now() + timedelta(minutes=5)
        s.flush()
        with pytest.raises(Forbidden) as refused:
            decide(s, settings, t, bob, decision="no_violation")
        assert refused.value.code == "same_reviewer"
        t.claimed_by, t.lease_until = None, None
    with db.session() as s:
        got = claim_next(s, carol, "appeals")
        assert got is not None and got.id == tid
        ev = decide(s, settings, got, carol, decision="no_violation", note="reviewed again")
        assert ev.reviewer == "carol"
    # Idempotent: the same source adds nothing, open or closed.
    with db.session() as s:
        assert (
            add_or_raise_task(
                s, queue="appeals", subject_type="account", subject_id="acct-1", severity=1, source_key="appeal:AP1"
            )
            is None
        )


def test_a_second_risk_family_raises_the_waiting_conversation_task(server: LiveServer, db: Database) -> None:
    from haven.core.ledger import record_event
    from haven.review.inbound import task_from_conversation

    def flag(family: str, priority: str, score: float) -> None:
        with db.session() as s:
            ev = record_event(
                s,
                "conversation.flagged",
                subject_type="conversation",
                subject_id="conv-9",
                actor="integration:x",
                data={
                    "conversation_id": "conv-9",
                    "family": family,
                    "sender": "adult-9",
                    "recipients": ["kid-9"],
                    "participants": ["adult-9", "kid-9"],
                    "turn": 3,
                    "grooming": {"score": 0.0, "behaviours": []},
                    "sextortion": {"score": 0.0, "behaviours": []},
                    family: {"score": score, "behaviours": []},
                    "relationship": [],
                    "priority": priority,
                    "preserved": True,
                },
            )
            s.flush()
            task_from_conversation(s, ev)
            task_from_conversation(s, ev)  # a retried job changes nothing

    flag("grooming", "HIGH", 0.7)
    flag("sextortion", "VERY_HIGH", 0.9)
    with db.session() as s:
        (task,) = s.scalars(select(ReviewTask).where(ReviewTask.subject_id == "conv-9")).all()
        assert task.severity == 4 and task.score == 0.9 and task.details["families"] == ["grooming", "sextortion"]
        assert "sextortion" in task.reason and len(task.details["merged_sources"]) == 1
        assert task.details["category"] == "sextortion"  # the strongest signal suggests the category
        task_id = task.id
    # A conversation no longer stored (never sent here, or purged): the page says so, no error.
    _sid, secret = make_staff(db, "cs9@example.org", ["child_safety_reviewer"])
    console = ConsoleClient(server.url)
    console.sign_in("cs9@example.org", PASSWORD, secret)
    assert console.post("/console/queues/grooming/next").headers["location"] == f"/console/tasks/{task_id}"
    page = console.get(f"/console/tasks/{task_id}")
    assert page.status_code == 200 and "is no longer stored" in page.text
    assert 'value="sextortion" selected' in page.text
    console.close()
