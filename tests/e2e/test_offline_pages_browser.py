"""No page of Haven asks another host for anything: /docs, /redoc and the console's sign-in page
load in Chromium with every non-local request failed and recorded (a Haven without internet, or
behind a strict egress firewall, still shows its API docs and console)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import LiveServer

pytestmark = pytest.mark.e2e
LOCAL = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _offline_page(browser: Any) -> tuple[Any, Any, list[str]]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    foreign: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        scheme = urlsplit(url).scheme
        host = urlsplit(url).hostname or ""
        if scheme in ("data", "blob") or host in LOCAL:
            route.continue_()
        else:
            foreign.append(url)
            route.abort("internetdisconnected")

    ctx.route("**/*", guard)
    page = ctx.new_page()
    page.set_default_timeout(15000)
    return ctx, page, foreign


def test_swagger_ui_renders_from_local_files(server: LiveServer, browser: Any) -> None:
    ctx, page, foreign = _offline_page(browser)
    page.goto(f"{server.url}/docs")
    page.wait_for_load_state("networkidle")
    page.locator(".swagger-ui .opblock").first.wait_for()
    assert page.locator(".swagger-ui .opblock").count() > 10
    assert "/v1/content" in page.locator(".swagger-ui").inner_text()
    ctx.close()
    assert foreign == []


def test_redoc_renders_from_local_files(server: LiveServer, browser: Any) -> None:
    ctx, page, foreign = _offline_page(browser)
    page.goto(f"{server.url}/redoc")
    page.wait_for_load_state("networkidle")
    page.locator("h1", has_text="Haven").first.wait_for()
    assert "/v1/content" in page.locator("body").inner_text()
    ctx.close()
    assert foreign == []


def test_console_sign_in_and_home_ask_no_other_host(server: LiveServer, browser: Any) -> None:
    ctx, page, foreign = _offline_page(browser)
    page.goto(f"{server.url}/")  # the address alone leads to the console's sign-in
    page.wait_for_load_state("networkidle")
    assert "/console/login" in page.url
    assert page.get_by_label("Password").count() == 1
    icon = page.request.get(f"{server.url}/favicon.ico")
    assert icon.status == 200 and icon.body()[:4] == b"\x00\x00\x01\x00"
    ctx.close()
    assert foreign == []


def test_the_guard_would_catch_a_foreign_request(server: LiveServer, browser: Any) -> None:
    """The guard above is not vacuous: a page that loads a CDN script is caught."""
    ctx, page, foreign = _offline_page(browser)
    page.goto(f"{server.url}/healthz")
    page.set_content('<script src="https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"></script>')
    ctx.close()
    assert foreign == ["https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"]
