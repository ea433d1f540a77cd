"""The safety centre and the report form in Chromium (Debian's, via Playwright): pages render in
English and Spanish without JavaScript, the form files a report through the notices service, a
CSAM report is anonymous, the outcome link works, and no request leaves the host."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from haven.core.models import Event
from haven.enforce.notices.models import UserReport
from haven.safety import guard
from haven.safety.config import safety_settings
from tests.conftest import LiveServer

pytestmark = pytest.mark.e2e
LOCAL = {"127.0.0.1", "localhost"}


@pytest.fixture
def quick_form(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safety_settings(), "form_min_seconds", 0.0)
    guard.reset()


def _page(browser: Any, lang: str = "en-GB") -> tuple[Any, Any, list[str]]:
    ctx = browser.new_context(java_script_enabled=False, locale=lang, viewport={"width": 1100, "height": 1400})
    foreign: list[str] = []

    def route(r: Any) -> None:
        host = urlsplit(r.request.url).hostname or ""
        if host in LOCAL:
            r.continue_()
        else:
            foreign.append(r.request.url)
            r.abort()

    ctx.route("**/*", route)
    return ctx, ctx.new_page(), foreign


def test_safety_pages_in_english_and_spanish(server: LiveServer, browser: Any, tmp_path: Any) -> None:
    ctx, page, foreign = _page(browser)
    for path in (
        "/safety",
        "/safety/teens",
        "/safety/parents",
        "/safety/educators",
        "/safety/sextortion",
        "/safety/help?country=ES",
        "/safety/terms",
        "/safety/transparency",
    ):
        resp = page.goto(server.url + path)
        assert resp is not None and resp.status == 200, path
        assert page.locator("h1").count() == 1
    page.goto(server.url + "/safety/sextortion")
    text = page.locator("main").inner_text()
    assert "Don't pay." in text and "Save the evidence." in text and "Take It Down" in text
    page.screenshot(path="var/screenshots/safety-sextortion-en.png", full_page=True)
    page.goto(server.url + "/safety/terms")
    assert "Child safety" in page.locator("main").inner_text()
    ctx.close()
    ctx, page, foreign2 = _page(browser, "es-ES")
    page.goto(server.url + "/safety")
    assert page.locator("html").get_attribute("lang") == "es"
    assert "Para adolescentes" in page.locator("nav").inner_text()
    page.screenshot(path="var/screenshots/safety-index-es.png", full_page=True)
    ctx.close()
    assert foreign == [] and foreign2 == []


def test_report_form_files_anonymous_csam_report_and_outcome_link(
    server: LiveServer, browser: Any, db: Any, quick_form: None
) -> None:
    ctx, page, foreign = _page(browser)
    page.goto(server.url + "/report?target_type=account&target_id=acct-77&conversation=conv-9&category=csam")
    page.get_by_label("Why should we act?").fill("This account shares abuse material in a group chat.")
    page.get_by_label("Attach this conversation to my report so a reviewer can read it").check()
    page.get_by_label("I believe the information in this report is accurate").check()
    page.screenshot(path="var/screenshots/report-form.png", full_page=True)
    page.get_by_role("button", name="Send report").click()
    assert "We received your report" in page.locator("h1").inner_text()
    reference = page.locator("#reference").inner_text()
    with db.session() as s:
        r = s.get(UserReport, reference)
        assert r is not None and r.reporter_id is None and r.reporter_email is None and r.reporter_name is None
        assert r.category == "csam"
        received = s.scalars(select(Event).where(Event.type == "user_report.received")).one()
        assert received.data["anonymous"] is True and received.data["report_id"] == reference
        consent = s.scalars(select(Event).where(Event.type == "user_report.conversation_consented")).one()
        assert consent.data == {"report_id": reference, "conversation_id": "conv-9"}
    page.locator("#outcome-link").click()
    assert "We are looking at it." in page.locator("#state").inner_text()
    # the reference alone does not open the outcome
    bad = page.goto(f"{server.url}/report/status/{reference}?t=wrong")
    assert bad is not None and bad.status == 404
    ctx.close()
    assert foreign == []


def test_non_child_safety_report_needs_a_reporter_and_bots_are_refused(
    server: LiveServer, browser: Any, db: Any, quick_form: None
) -> None:
    ctx, page, _ = _page(browser)
    page.goto(server.url + "/report?target_id=post-1&category=other")
    page.get_by_label("Why should we act?").fill("Spam.")
    page.get_by_label("I believe the information in this report is accurate").check()
    page.get_by_role("button", name="Send report").click()
    assert "Only reports of child sexual abuse can be anonymous" in page.locator("#form-error").inner_text()
    ctx.close()
    with server.client() as c:
        form = c.get("/report").text
        token = form.split('name="token" value="')[1].split('"')[0]
        data = {
            "token": token,
            "target_type": "content",
            "target_id": "x",
            "category": "csam",
            "explanation": "x",
            "good_faith": "1",
            "website": "http://spam",
        }
        assert c.post("/report", data=data).status_code == 400  # honeypot filled
        data["website"] = ""
        assert c.post("/report", data=data).status_code == 201
        assert c.post("/report", data=data).status_code == 400  # the same token again
    with db.session() as s:
        assert len(s.scalars(select(UserReport)).all()) == 1
