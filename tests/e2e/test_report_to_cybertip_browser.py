"""One incident, one CyberTipline case, in the browser (issue 18 item 1): a parent reports an adult
account for grooming (`POST /v1/reports`) and the same account's conversation is flagged. One
reviewer has opened the report's task; another confirms the conversation in the console. The
conversation's decision opens one draft case, closes the report case and with it the report's task:
the first reviewer's submit is refused with the reason, the User reports queue no longer offers it,
and "what followed" lists the draft (linked), the report case and the task closed with it. Every
request to another host fails the test. Screenshots go to var/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from haven.core.db import Database
from haven.core.models import Event
from haven.core.settings import Settings
from haven.cybertip.models import ReportCase
from haven.enforce.models import EnforcementDecision, StatementOfReasons
from haven.enforce.notices.models import NoticeCase
from haven.review.models import ReviewTask
from tests.conftest import LiveServer
from tests.cybertip.fixtures import run_jobs
from tests.cybertip.test_one_incident_one_case import report_and_groom
from tests.e2e.conftest import same_settings_as_server
from tests.e2e.walks import offline_context
from tests.review.fixtures import PASSWORD, make_staff

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _sign_in(page: Any, base: str, email: str, secret: str) -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Queues", exact=True)).to_be_visible()


def test_report_and_conversation_of_one_account_make_one_case_in_the_console(
    server: LiveServer,
    api_key: str,
    db: Database,
    settings: Settings,
    browser: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    same_settings_as_server(monkeypatch, settings)  # jobs worked here use the server's vault key
    with server.client(api_key) as c:
        notice_case_id = report_and_groom(c)
    run_jobs(db)  # the report's task and the conversation's task
    with db.session() as s:
        report_task = s.scalar(select(ReviewTask).where(ReviewTask.subject_id == notice_case_id))
        assert report_task is not None and report_task.status == "open"
        report_task_id = report_task.id
    _, reports_secret = make_staff(db, "reports@example.org", ["child_safety_reviewer"])
    _, groom_secret = make_staff(db, "grooming@example.org", ["child_safety_reviewer"])

    foreign: list[str] = []
    # The first reviewer opens the report's task from User reports, and leaves it open.
    first_ctx = offline_context(browser, foreign)
    first = first_ctx.new_page()
    _sign_in(first, server.url, "reports@example.org", reports_secret)
    first.goto(f"{server.url}/console/queues/user_reports")
    first.get_by_role("button", name="Next task").click()
    first.wait_for_url(re.compile(rf"/console/tasks/{report_task_id}"))
    expect(first.locator("#main")).to_contain_text("man-9")

    # The second confirms the conversation, in the grooming queue.
    second_ctx = offline_context(browser, foreign)
    second = second_ctx.new_page()
    _sign_in(second, server.url, "grooming@example.org", groom_secret)
    second.goto(f"{server.url}/console/queues/grooming")
    second.get_by_role("button", name="Next task").click()
    second.wait_for_url(re.compile(r"/console/tasks/"))
    expect(second.locator("#main")).to_contain_text("conversation conv-9")
    # Times as every page shows them, and the conversation across most of the page (item 10).
    conversation = second.locator("ol.conversation")
    expect(conversation).to_contain_text("2026-11-21 10:01 UTC")
    expect(second.locator("#main")).to_contain_text("kid-9 (age band 13-15)")
    assert "T10:01:00" not in conversation.inner_text()
    box = conversation.bounding_box()
    assert box is not None and box["width"] > 600, box
    SHOTS.mkdir(parents=True, exist_ok=True)
    second.screenshot(path=str(SHOTS / "conversation-task.png"), full_page=True)
    second.locator("input[name=decision][value=violation]").check()
    second.locator("#category").select_option("grooming")
    second.locator("#submit").click()
    expect(second.locator("#decided")).to_be_visible()
    followed = second.locator("#decided a").get_attribute("href")
    assert followed and "/console/decisions/" in followed
    decision_id = followed.rsplit("/", 1)[-1]
    run_jobs(db)  # enforcement closes the report case; reporting opens the one draft; the task closes

    with db.session() as s:
        (case,) = s.scalars(select(ReportCase)).all()  # one CyberTipline case for the incident
        notice = s.get(NoticeCase, notice_case_id)
        assert notice is not None and notice.status == "closed" and notice.outcome == "violation"
        # Both linked to it: the case is the conversation's decision's, and the report case was
        # closed by that decision's enforcement.
        assert case.decision_id == decision_id
        enforcement = s.scalar(select(EnforcementDecision).where(EnforcementDecision.source_ref == decision_id))
        assert enforcement is not None and notice.decision_id == enforcement.id
        enforcement_id = enforcement.id
        assert case.status == "draft" and case.reported_account == {"esp_identifier": "man-9"}
        task = s.get(ReviewTask, report_task_id)
        assert task is not None and task.status == "resolved"
        told = s.scalars(select(Event).where(Event.type == "notice_case.closed")).all()
        assert [e.data["reporters_told"] for e in told] == [1]  # the reporter was told once

    # "What followed": the draft with its link, the report case, the report's task closed with it.
    second.goto(f"{server.url}{followed}")
    followups = second.locator("#followups")
    draft = second.locator("#followups a", has_text="CyberTipline draft opened")
    expect(draft).to_have_count(1)
    expect(draft).to_have_attribute("href", f"/console/reports/{case.id}")
    expect(second.locator("#followups [data-kind=task]")).to_contain_text("(queue User reports) closed with it")
    expect(followups.locator("[data-kind=notice_case]")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    second.screenshot(path=str(SHOTS / "report-what-followed.png"), full_page=True)

    # The first reviewer's decision on the report's task is refused, with the reason ...
    first.locator("input[name=decision][value=violation]").check()
    first.locator("#submit").click()
    refusal = first.locator("p.error[data-code=already_resolved]")
    expect(refusal).to_contain_text("already settled this task")
    expect(refusal).to_contain_text("a reviewer's decision on conversation conv-9: violation, grooming")
    first.screenshot(path=str(SHOTS / "report-task-already-resolved.png"), full_page=True)
    # ... and User reports no longer offers it.
    first.get_by_role("link", name="Back to the queue").click()
    first.get_by_role("button", name="Next task").click()
    first.wait_for_url(re.compile(r"/console/queues/user_reports\?empty=1"))
    run_jobs(db)
    with db.session() as s:  # still one case, and the account was given one statement of reasons
        assert len(s.scalars(select(ReportCase)).all()) == 1
        statements = s.scalars(select(StatementOfReasons).where(StatementOfReasons.account_id == "man-9")).all()
        assert [st.decision_id for st in statements] == [enforcement_id]
    first_ctx.close()
    second_ctx.close()
    assert foreign == [], foreign
