"""Steps the browser walks share: a browser context that fails on any request to another host, and a
newcomer's first sign-in from a set-up link (password, two-factor enrolment, every training module
and quiz, the calibration set)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pyotp
from playwright.sync_api import expect

from tests.review.fixtures import PASSWORD

#: Generous: the machine that runs these walks is shared, and a page may wait for a busy server.
TIMEOUT_MS = 30_000
LOCAL = {"127.0.0.1", "localhost", "::1", "[::1]"}


def offline_context(browser: Any, foreign: list[str], width: int = 1280, height: int = 900) -> Any:
    """A browser context in which every request to a host other than loopback is failed and recorded
    (a Haven without internet, or behind a strict egress firewall)."""
    ctx = browser.new_context(viewport={"width": width, "height": height})
    ctx.set_default_timeout(TIMEOUT_MS)

    def guard(route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or (parts.hostname or "") in LOCAL:
            route.continue_()
        else:
            foreign.append(url)
            route.abort("internetdisconnected")

    ctx.route("**/*", guard)
    return ctx


def first_sign_in(page: Any, setup_link: str, password: str = PASSWORD) -> str:
    """From the set-up link to the console home, trained: returns the TOTP secret."""
    from haven.staff import training

    page.goto(setup_link)
    page.get_by_label("New password").fill(password)
    page.get_by_label("Repeat it").fill(password)
    page.get_by_role("button", name="Set password").click()
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/console/enrol"))
    secret = str(page.locator("#totp-secret").inner_text()).strip()
    page.get_by_label("6-digit code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="Continue to the console").click()
    page.get_by_role("link", name="Training", exact=True).first.click()
    # Every module still to do, with its quiz answered (the answers come from the module files).
    while True:
        todo = page.locator("#main tbody tr", has_text="to do").get_by_role("link")
        if todo.count() == 0:
            break
        todo.first.click()
        slug = page.url.rstrip("/").rsplit("/", 1)[-1]
        quiz = training.quiz(slug)
        assert quiz is not None, slug
        for q in quiz.questions:
            page.locator("fieldset.question", has_text=q.q).get_by_label(q.options[q.answer]).check()
        page.get_by_role("button", name="Submit my answers").click()
        expect(page.locator("#quiz-failed")).to_have_count(0)
        page.get_by_role("link", name="Training", exact=True).first.click()
    return secret
