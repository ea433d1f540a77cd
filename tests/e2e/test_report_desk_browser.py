"""The report desk in a real browser (Debian's Chromium through Playwright) against the real server
and the CyberTipline double on loopback: a legal officer signs in, opens the draft, corrects the
victim's age, escalates, submits, and sees the finished report with NCMEC's report id once the
worker has sent it. Screenshots go to var/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect

from haven.accounts.models import Account
from haven.accounts.service import touch_account
from haven.core import clock
from haven.core.db import Database
from haven.core.settings import Settings
from haven.cybertip.models import ReportCase
from tests.conftest import LiveServer
from tests.cybertip.conftest import _fresh_process_settings, double, live_double  # noqa: F401  (fixtures)
from tests.cybertip.fixtures import LiveDouble, case_for, configure, decide, make_item, reveal, run_jobs
from tests.review.fixtures import PASSWORD, make_staff

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_legal_officer_takes_a_draft_to_a_finished_report(
    server: LiveServer,
    db: Database,
    settings: Settings,
    double: LiveDouble,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    browser: Any,
) -> None:
    configure(monkeypatch, settings, double)
    reviewer_id, _ = make_staff(db, "reviewer@example.org", ["child_safety_reviewer"], enrol=False)
    _, secret = make_staff(db, "counsel@example.org", ["legal"])
    with db.session() as s:
        touch_account(s, "user-child")
        child = s.get(Account, "user-child")
        assert child is not None
        child.age_band = "13_15"  # a minor recipient is proposed as the victim
        seen = make_item(s, settings, 31, recipients=["user-child"])
        make_item(s, settings, 32, recipients=["user-child"])
        reveal(s, settings, seen, actor=f"staff:{reviewer_id}")
        decision_id = decide(s, [seen.id], classification="A2")
    run_jobs(db)
    case_id = case_for(db, decision_id)

    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{server.url}/console/login")
    page.get_by_label("Email").fill("counsel@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).at(clock.now()))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Reports", exact=True).click()
    row = page.locator(f'tr[data-case="{case_id}"]')
    expect(row).to_contain_text("draft")
    row.get_by_role("link").first.click()
    page.wait_for_url(re.compile(rf"/console/reports/{case_id}$"))
    # Every field is there: the reported account, the truthful flags with who looked, the hashes.
    expect(page.locator(f'[data-file="{seen.id}"] [data-viewed]')).to_have_attribute("data-viewed", "true")
    expect(page.locator(f'[data-file="{seen.id}"]')).to_contain_text("viewed by reviewer@example.org")
    expect(page.locator(f'[data-file="{seen.id}"]')).to_contain_text(seen.sha256 or "")
    expect(page.get_by_label("Account id on the service").first).to_have_value("user-offender")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "report-draft.png"), full_page=True)

    # Correct the victim's age; a wrong value is refused next to the field first.
    age = page.locator("#f-victim-0-age")
    age.fill("fourteen")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#err-victim-0-age")).to_contain_text("whole number")
    expect(page.locator("#f-victim-0-age")).to_have_value("fourteen")
    page.locator("#f-victim-0-age").fill("14")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").filter(has_text="Draft saved.")).to_be_visible()
    expect(page.locator("#f-victim-0-age")).to_have_value("14")

    # Escalate: a child is at imminent risk.
    page.get_by_label("A child is at imminent risk").fill("The child agreed to meet the account holder tonight.")
    page.get_by_role("button", name="Escalate to high priority").click()
    expect(page.locator(".tag.urgent").first).to_have_text("high priority")

    # Submit; the worker sends it to the double; the status block refreshes itself.
    page.get_by_role("button", name=re.compile("Submit to the CyberTipline")).click()
    expect(page.locator("#report-status [data-status]")).to_have_attribute("data-status", "queued")
    run_jobs(db)
    with db.session() as s:
        case = s.get(ReportCase, case_id)
        assert case is not None and case.status == "finished" and case.ncmec_report_id
        report_id = case.ncmec_report_id
    expect(page.locator("#ncmec-report-id")).to_have_text(report_id, timeout=10000)
    expect(page.locator("#report-status [data-status]")).to_have_attribute("data-status", "finished")
    page.reload()
    expect(page.locator("#ncmec-report-id")).to_have_text(report_id)
    endpoints = page.locator("table.calls tbody tr td:nth-child(3)").all_inner_texts()
    assert endpoints[0] == "submit" and endpoints[-1] == "finish" and "upload" in endpoints, endpoints
    page.screenshot(path=str(SHOTS / "report-finished.png"), full_page=True)

    (filed,) = double.state.finished()
    assert filed.report_id == report_id
    assert "<age>14</age>" in filed.xml
    assert "The child agreed to meet the account holder tonight." in filed.xml
    ctx.close()
