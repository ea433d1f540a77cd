from __future__ import annotations

from collections.abc import Iterator

import pytest

from haven.core.settings import get_settings
from tests.cybertip.fixtures import LiveDouble, start_double


@pytest.fixture(scope="session")
def live_double() -> Iterator[LiveDouble]:
    yield from start_double()


@pytest.fixture
def double(live_double: LiveDouble) -> Iterator[LiveDouble]:
    live_double.state.reset()
    yield live_double
    live_double.state.reset()


@pytest.fixture(autouse=True)
def _fresh_process_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
