"""One incident, one CyberTipline case (issue 18, item 1). A user reports an adult account for
grooming; a reviewer confirms the flagged conversation of the same account. The conversation's
decision closes the report case and tells the reporter; the report's own task closes with it
(`resolved`, nothing left to decide there); and a later decision about the same account adds to the
open draft instead of opening a second "Online Enticement" case."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from haven.core.db import Database
from haven.core.errors import Conflict
from haven.core.models import Event
from haven.core.settings import Settings
from haven.cybertip.models import ReportCase
from haven.enforce.notices.models import NoticeCase
from haven.review import service as review
from haven.review.models import ReviewTask
from tests.conftest import LiveServer
from tests.cybertip.fixtures import LiveDouble, configure, run_jobs
from tests.cybertip.test_conversation_case import GROOMER, _decide_conversation, _msg
from tests.review.fixtures import make_staff, reviewer


def report_and_groom(c: httpx.Client) -> str:
    """A parent reports adult man-9 for grooming, and man-9 grooms 13-15 kid-9 in conv-9 (the
    same incident twice over); returns the report's notice case id."""
    assert c.put("/v1/accounts/man-9", json={"age_band": "adult"}).status_code == 200
    assert c.put("/v1/accounts/kid-9", json={"age_band": "13_15"}).status_code == 200
    r = c.post(
        "/v1/reports",
        json={
            "reporter": {"id": "parent-1"},
            "target": {"type": "account", "id": "man-9"},
            "category": "grooming",
            "explanation": "this account keeps messaging my son",
            "good_faith": True,
            "notify_outcome": True,
        },
    )
    assert r.status_code == 201, r.text
    notice_case_id = r.json()["case_id"]
    for i, text in enumerate(GROOMER, 1):
        assert c.post("/v1/messages", json=_msg("conv-9", "man-9", ["kid-9"], text, i)).status_code == 200
    return notice_case_id


def test_report_and_conversation_of_one_account_make_one_case(
    server: LiveServer,
    api_key: str,
    db: Database,
    settings: Settings,
    double: LiveDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(monkeypatch, settings, double)
    with server.client(api_key) as c:
        notice_case_id = report_and_groom(c)
    run_jobs(db)  # the report's task and the conversation's task
    with db.session() as s:
        report_task = s.scalar(
            select(ReviewTask).where(ReviewTask.subject_type == "notice_case", ReviewTask.subject_id == notice_case_id)
        )
        assert report_task is not None and report_task.status == "open"
        report_task_id = report_task.id

    # A reviewer claims the report's task first, then someone confirms the conversation.
    staff_id, _ = make_staff(db, "reports@example.org", ["child_safety_reviewer"])
    holder = reviewer(db, staff_id)
    with db.session() as s:
        assert review.claim(s, report_task_id, holder)
    decision_id = _decide_conversation(db, settings, "conv-9", "grooming")
    run_jobs(db)  # enforcement closes the notice case; reporting opens one draft; the task closes

    with db.session() as s:
        notice = s.get(NoticeCase, notice_case_id)
        assert notice is not None and notice.status == "closed" and notice.outcome == "violation"
        task = s.get(ReviewTask, report_task_id)
        assert task is not None and task.status == "resolved" and task.claimed_by is None
        assert task.details["resolved_by"] == notice.decision_id
        resolved = s.scalars(select(Event).where(Event.type == "review.task_resolved")).all()
        assert [e.data["task_id"] for e in resolved] == [report_task_id]
        cases = s.scalars(select(ReportCase)).all()
        assert len(cases) == 1 and cases[0].decision_id == decision_id
        assert cases[0].reported_account == {"esp_identifier": "man-9"}
        # The reporter was told once.
        told = s.scalars(select(Event).where(Event.type == "notice_case.closed")).all()
        assert [e.data["reporters_told"] for e in told] == [1]
        # What followed the decision, as the console's decision page lists it (issue 18 item 5).
        from haven.review.followups import what_followed
        from haven.review.models import ReviewDecision

        made = s.get(ReviewDecision, decision_id)
        assert made is not None
        follow = what_followed(s, made)
        kinds = [f.kind for f in follow]
        assert {"report_case", "enforcement", "notice_case", "task"} <= set(kinds), follow
        case_link = next(f.link for f in follow if f.kind == "report_case")
        assert case_link == f"/console/reports/{cases[0].id}"
        assert any("closed with it" in f.text for f in follow if f.kind == "task")
        # Said in words, not action ids.
        assert any(f.text == "account terminated: account man-9" for f in follow if f.kind == "action"), follow
        assert not any("account.terminate" in f.text or "notice.deliver" in f.text for f in follow), follow
        task = s.get(ReviewTask, report_task_id)
        assert task is not None
        # The reviewer who held it cannot decide it a second time.
        with pytest.raises(Conflict) as refused:
            review.decide(s, settings, task, holder, decision="violation", category="grooming")
        assert refused.value.code == "already_resolved"

    # A later confirmed decision about the same account (another conversation with another child)
    # adds to the draft: its recipient and victim, its messages after the first conversation's.
    with server.client(api_key) as c:
        assert c.put("/v1/accounts/kid-10", json={"age_band": "under_13"}).status_code == 200
        for i, text in enumerate(GROOMER, 1):
            assert c.post("/v1/messages", json=_msg("conv-10", "man-9", ["kid-10"], text, i + 20)).status_code == 200
    run_jobs(db)
    second = _decide_conversation(db, settings, "conv-10", "grooming")
    run_jobs(db)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ReportCase)) == 1
        case = s.scalars(select(ReportCase)).one()
        assert [r["esp_identifier"] for r in case.recipients] == ["kid-9", "kid-10"]
        assert [v["esp_identifier"] for v in case.victims] == ["kid-9", "kid-10"]
        assert [r["text"] for r in case.conversation] == [*GROOMER, *GROOMER]
        updated = s.scalars(select(Event).where(Event.type == "report.case_updated")).all()
        assert [e.data.get("decision_id") for e in updated] == [second]
        assert {"recipients", "victims", "conversation"} <= set(updated[0].data["fields"])


def test_a_different_incident_type_still_opens_its_own_case(
    server: LiveServer,
    api_key: str,
    db: Database,
    settings: Settings,
    double: LiveDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Merging is per incident type (a CyberTipline report has one): the same account's confirmed
    grooming conversation and its confirmed upload of known material are two reports; a second
    confirmed upload joins the first upload's draft."""
    from tests.cybertip.fixtures import decide, make_item

    configure(monkeypatch, settings, double)
    with server.client(api_key) as c:
        assert c.put("/v1/accounts/man-11", json={"age_band": "adult"}).status_code == 200
        assert c.put("/v1/accounts/kid-11", json={"age_band": "13_15"}).status_code == 200
        for i, text in enumerate(GROOMER, 1):
            assert c.post("/v1/messages", json=_msg("conv-11", "man-11", ["kid-11"], text, i)).status_code == 200
    run_jobs(db)
    _decide_conversation(db, settings, "conv-11", "grooming")
    with db.session() as s:
        first = make_item(s, settings, 41, uploader="man-11")
        second = make_item(s, settings, 42, uploader="man-11")
        decide(s, [first.id], uploader="man-11")
        decide(s, [second.id], uploader="man-11")
        ids = (first.id, second.id)
    run_jobs(db)
    with db.session() as s:
        cases = {c.incident_type: c for c in s.scalars(select(ReportCase))}
        assert len(cases) == 2
        media = next(c for c in cases.values() if c.content_ids)
        assert sorted(media.content_ids) == sorted(ids)
