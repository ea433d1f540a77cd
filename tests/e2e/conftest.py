"""Cheaper argon2 parameters for tests (still argon2id): the production cost (64 MiB, 3 passes)
costs about half a second per hash on the shared test machine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from haven.core.settings import Settings, get_settings
from haven.staff import service


@pytest.fixture(autouse=True)
def _fast_argon2() -> Iterator[None]:
    previous = service._hasher
    service._hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    yield
    service._hasher = previous


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One Chromium for every browser test (Debian's, driven by Playwright)."""
    import os

    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is missing: run 'make system-deps' (scripts/system-deps.sh installs it)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def same_settings_as_server(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """Jobs worked in the test process (``jobs.work``) read the process settings: point them at the
    server's var/ folder and database, so both use one evidence vault key and one quarantine."""
    monkeypatch.setenv("HAVEN_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("HAVEN_DATABASE_URL", settings.effective_database_url)
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_process_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
