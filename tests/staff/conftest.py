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
