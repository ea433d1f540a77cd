"""The console in a real browser (Debian's Chromium through Playwright) against the real server:
a newcomer sets a password, enrols TOTP, completes training, claims a task, reveals the media,
decides with the keyboard alone and lands on the next task; an untrained reviewer cannot claim
from a child-safety queue. Screenshots of the task page go to var/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from haven.core import jobs
from haven.core.db import Database
from haven.core.models import AuditRecord, Event
from haven.core.settings import Settings
from haven.cybertip.models import ReportCase
from haven.review import file_views
from haven.review.models import ReviewTask
from haven.screening.models import ContentItem
from haven.staff import service as svc
from tests.conftest import LiveServer
from tests.e2e.conftest import same_settings_as_server
from tests.helpers import encode, sample
from tests.review.fixtures import PASSWORD, bank_and_flag, make_staff

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _flag_two(server: LiveServer, api_key: str) -> list[str]:
    with server.client(api_key) as c:
        a = bank_and_flag(c, encode(sample("astronaut"), quality=95), encode(sample("astronaut"), quality=70))
        b = c.post(
            "/v1/content", files={"file": ("b.jpg", encode(sample("astronaut").resize((400, 400)), quality=60))}
        ).json()
    assert a["verdict"]["action"] == b["verdict"]["action"] == "block"
    return [a["id"], b["id"]]


def test_newcomer_signs_in_trains_and_works_a_queue_by_keyboard(
    server: LiveServer, api_key: str, db: Database, settings: Settings, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The worker runs in this process: it reads the process settings, which must be the server's
    # (the same var/ folder, so the same evidence vault key), or the reporting job cannot open the
    # quarantined file it preserves and no draft appears.
    same_settings_as_server(monkeypatch, settings)
    ids = _flag_two(server, api_key)
    jobs.work(db, once=True)
    with db.session() as s:
        created = svc.create_staff(s, "newcomer@example.org", ["child_safety_reviewer"], actor="cli")
        staff_id = created.staff.id
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    elsewhere: list[str] = []

    def only_local(route: Any) -> None:  # a Haven without internet: any other host fails the test
        url = route.request.url
        if url.startswith(server.url) or url.startswith("data:"):
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort("internetdisconnected")

    ctx.route("**/*", only_local)
    page = ctx.new_page()
    page.set_default_timeout(30000)
    base = server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    # Set-up link, then password.
    page.goto(f"{base}/console/setup/{created.setup_token}")
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Repeat it").fill(PASSWORD)
    page.get_by_role("button", name="Set password").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    # Two-factor enrolment with the QR code's key.
    page.wait_for_url(re.compile(r"/console/enrol"))
    assert page.locator("figure.qr svg").count() == 1
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("6-digit code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    assert page.locator("#recovery-codes li").count() == 10
    codes = [c.strip() for c in page.locator("#recovery-codes code").all_inner_texts()]
    # Copy and download, both made in the page from its own list (issue 18 item 10).
    with page.expect_download() as saved:
        page.get_by_role("button", name="Download as a text file").click()
    assert saved.value.suggested_filename == "haven-recovery-codes.txt"
    downloaded = Path(saved.value.path()).read_text()
    assert all(c in downloaded.splitlines() for c in codes), downloaded
    page.get_by_role("button", name="Copy the codes").click()
    expect(page.locator("#codes-copied")).to_have_text("Copied 10 codes.")
    assert all(c in page.evaluate("() => navigator.clipboard.readText()") for c in codes)
    page.screenshot(path=str(SHOTS / "recovery-codes.png"), full_page=True)
    page.get_by_role("link", name="Continue to the console").click()
    # Not trained yet: the child-safety queues are closed.
    assert "training needed" in page.locator("tr[data-queue=known_material]").inner_text()
    page.get_by_role("link", name="Training", exact=True).first.click()
    from haven.staff import training

    for n, (title, slug) in enumerate(
        (
            ("Policy", "policy"),
            ("Legal duties", "legal-duties"),
            ("Reporting", "reporting"),
            ("Wellness", "wellness"),
            ("Calibration", "calibration"),  # decided before the live queues
            ("Financial review", "financial-review"),  # a child-safety reviewer's own module
        )
    ):
        page.locator("#main").get_by_role("link", name=re.compile(f"^{title}")).click()
        quiz = training.quiz(slug)
        assert quiz is not None
        for attempt in ("wrong", "right") if n == 0 else ("right",):
            for q in quiz.questions:
                pick = q.answer if attempt == "right" else (q.answer + 1) % len(q.options)
                page.locator("fieldset.question", has_text=q.q).get_by_label(q.options[pick]).check()
            page.get_by_role("button", name="Submit my answers").click()
            if attempt == "wrong":  # reading is not enough: the module is not completed, and says why
                assert "not passed" in page.locator("#quiz-failed").inner_text()
    assert page.locator("text=to do").count() == 0
    page.get_by_role("link", name="Queues", exact=True).click()
    page.locator("tr[data-queue=known_material] button", has_text="Next task").click()
    page.wait_for_url(re.compile(r"/console/tasks/"))
    first_task = page.locator("[data-task]").get_attribute("data-task")
    img = page.locator(".item img").first
    assert "/preview" in (img.get_attribute("src") or "")
    SHOTS.mkdir(parents=True, exist_ok=True)
    # Zero tolerance already acted on this upload: the page says so (issue 18 item 4).
    expect(page.locator("#automated-action")).to_contain_text("known_material.block")
    page.screenshot(path=str(SHOTS / "task-blurred.png"), full_page=True)
    # Reveal with the keyboard: the file is fetched and the view recorded.
    page.keyboard.press("r")
    # (expect, not wait_for_function: the console's CSP forbids the eval that the latter uses)
    expect(img).to_have_attribute("src", re.compile("/file"))
    expect(img).to_have_js_property("complete", True)
    # The button says what it does now, and that it is pressed (issue 18 item 10).
    reveal = page.locator("a.reveal").first
    expect(reveal).to_have_text("Hide (r)")
    expect(reveal).to_have_attribute("aria-pressed", "true")
    # The full file, not the preview: its natural width is the uploaded picture's (which of the two
    # tasks comes first depends on the classifier scores that feed the priority).
    with db.sessions() as s:
        task = s.get(ReviewTask, first_task)
        assert task is not None
        item = s.get(ContentItem, task.subject_id)
        assert item is not None and item.width in (512, 400)
        width = item.width
    expect(img).to_have_js_property("naturalWidth", width)
    page.screenshot(path=str(SHOTS / "task-revealed.png"), full_page=True)
    with db.sessions() as s:
        views = [v for cid in ids for v in file_views(s, cid)]
    assert len(views) == 1 and views[0].actor == f"staff:{staff_id}"
    page.keyboard.press("r")  # blur again
    expect(img).to_have_attribute("src", re.compile("/preview$"))
    expect(img).not_to_have_class(re.compile("masked"))  # the preview has loaded
    expect(reveal).to_have_text("Reveal (r, or hold)")
    expect(reveal).to_have_attribute("aria-pressed", "false")
    # Holding the Reveal button shows the file only while held (and records that view too).
    box = page.locator("a.reveal").first.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    expect(img).to_have_attribute("src", re.compile("/file"))
    page.mouse.up()
    expect(img).to_have_attribute("src", re.compile("/preview$"))
    with db.sessions() as s:
        assert len([v for cid in ids for v in file_views(s, cid)]) == 2
    # The shortcut overlay.
    page.keyboard.press("?")
    assert page.locator("#shortcuts").is_visible()
    page.screenshot(path=str(SHOTS / "task-shortcuts.png"))
    page.keyboard.press("Escape")
    assert not page.locator("#shortcuts").is_visible()
    # The file's metadata (EXIF) on a deliberate click, fetched by htmx into the page: recorded
    # as media.exif_view (what exifViewedByEsp is built from), and not a view of the file.
    page.get_by_role("link", name="Show file metadata (EXIF)").first.click()
    expect(page.locator(".item .exif").first).to_contain_text("carries no EXIF metadata")
    assert "/exif" not in page.url  # swapped into the task page, not a new page
    with db.sessions() as s:
        exif = s.scalars(select(AuditRecord).where(AuditRecord.action == "media.exif_view")).all()
        assert [a.actor for a in exif] == [f"staff:{staff_id}"] and exif[0].details["content_id"] in ids
        assert len([v for cid in ids for v in file_views(s, cid)]) == 2
    page.locator("body").focus()
    # Decide by keyboard alone: violation, A1, submit and next.
    page.keyboard.press("v")
    page.keyboard.press("1")
    page.keyboard.press("x")
    expect(page.locator("[data-task]")).not_to_have_attribute("data-task", first_task or "")
    second_task = page.locator("[data-task]").get_attribute("data-task")
    assert second_task and second_task != first_task
    # The page after a decision links to what followed it (issue 18 item 5).
    expect(page.locator("#decided")).to_be_visible()
    followed = page.locator("#decided a").get_attribute("href")
    assert followed and "/console/decisions/" in followed
    with db.sessions() as s:
        ev = s.scalar(select(Event).where(Event.type == "review.decision"))
    assert ev is not None and ev.data["task_id"] == first_task and ev.data["decision"] == "violation"
    assert ev.data["category"] == "csam" and ev.data["classification"] == "A1"
    # No violation on the second, then the queue is empty.
    page.keyboard.press("n")
    page.keyboard.press("x")
    page.wait_for_url(re.compile(r"/console/queues/known_material\?empty=1"))
    assert page.locator("#queue-empty").is_visible()
    from tests.enforce.test_webhook_flow import drain

    drain(db)  # the follow-ups run in the worker: enforcement, reporting
    page.goto(f"{base}{followed}")
    expect(page.locator("#followups")).to_contain_text("added to local_confirmed")
    expect(page.locator("#followups")).to_contain_text("confirmed what rule known_material.block already did")
    # The confirmed upload opened a CyberTipline draft, listed with its link.
    draft = page.locator("#followups a", has_text=re.compile("CyberTipline draft opened"))
    expect(draft).to_have_count(1)
    with db.sessions() as s:
        (case,) = s.scalars(select(ReportCase)).all()
        assert case.decision_id in followed and case.status == "draft"
    expect(draft).to_have_attribute("href", f"/console/reports/{case.id}")
    page.screenshot(path=str(SHOTS / "decision-followups.png"), full_page=True)
    assert elsewhere == [], elsewhere
    ctx.close()


def test_untrained_reviewer_cannot_claim_child_safety_tasks(
    server: LiveServer, api_key: str, db: Database, browser: Any
) -> None:
    _flag_two(server, api_key)
    jobs.work(db, once=True)
    _, secret = make_staff(db, "untrained@example.org", ["child_safety_reviewer"], trained=False)
    ctx = browser.new_context()
    page = ctx.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{server.url}/console/")
    page.get_by_label("Email").fill("untrained@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    row = page.locator("tr[data-queue=known_material]")
    assert "training needed" in row.inner_text() and row.locator("button").count() == 0
    # Going to the queue directly and pressing "Next task" is refused by the server.
    page.goto(f"{server.url}/console/queues/known_material")
    page.get_by_role("button", name="Next task").click()
    assert "complete your training" in page.locator("p.error").inner_text()
    with db.sessions() as s:
        assert s.scalar(select(Event).where(Event.type == "review.task_claimed")) is None
    ctx.close()
