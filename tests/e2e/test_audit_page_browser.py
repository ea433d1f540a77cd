"""The admins' audit log in Chromium at 1280 px (issue 18 item 10): records with long details wrap
inside the window instead of widening the page, and the date filters take ISO dates (YYYY-MM-DD,
time optional) typed as text, not a browser's locale-ordered picker. Screenshot:
var/screenshots/audit-log.png."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect

from haven.core import clock
from haven.core.db import Database
from haven.core.ledger import audit
from tests.conftest import LiveServer
from tests.e2e.walks import offline_context
from tests.review.fixtures import PASSWORD, make_staff

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_audit_log_fits_1280_and_filters_by_iso_dates(server: LiveServer, db: Database, browser: Any) -> None:
    _, secret = make_staff(db, "admin@example.org", ["admin"], trained=False)
    with db.session() as s:
        for n in range(5):
            audit(
                s,
                actor="cli",
                action="bank.import",
                object_type="bank",
                object_id=f"01M8S6XQM2YVC9J5EQKTFGQD{n:02d}",
                details={"file": "/srv/imports/" + "partner-hotline-export-" * 8 + f"{n}.csv", "rows": 10_000 + n},
            )
    foreign: list[str] = []
    ctx = offline_context(browser, foreign, width=1280, height=900)
    page = ctx.new_page()
    page.goto(f"{server.url}/console/login")
    page.get_by_label("Email").fill("admin@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{server.url}/console/admin/audit")
    expect(page.locator("table.audit tbody tr", has_text="bank.import")).to_have_count(5)

    # No horizontal scrolling at 1280 px.
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1280, width
    # ISO dates as text: no locale picker, and the format said next to the fields.
    for field in ("#f-from", "#f-to"):
        assert page.locator(field).get_attribute("type") == "text"
        assert page.locator(field).get_attribute("pattern")
    expect(page.locator("#iso-hint")).to_contain_text("YYYY-MM-DD")
    today = clock.now().date()
    page.locator("#f-from").fill(today.isoformat())
    page.locator("#f-to").fill(today.isoformat())  # a day alone: the whole of it
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.audit tbody tr", has_text="bank.import")).to_have_count(5)
    expect(page.locator("#f-from")).to_have_value(today.isoformat())
    page.screenshot(path=str(SHOTS / "audit-log.png"), full_page=True)
    yesterday = (today - timedelta(days=1)).isoformat()
    page.locator("#f-from").fill(f"{yesterday} 00:00")
    page.locator("#f-to").fill(f"{yesterday} 23:59")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.audit tbody tr", has_text="bank.import")).to_have_count(0)
    # A US-ordered date is not accepted by the field (the browser says so before sending).
    page.locator("#f-from").fill("11/21/2026")
    assert page.locator("#f-from").evaluate("el => el.validity.patternMismatch") is True
    ctx.close()
    assert foreign == [], foreign
