"""Cheaper argon2 parameters for tests (still argon2id): the production cost (64 MiB, 3 passes)
costs about half a second per hash on the shared test machine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

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
