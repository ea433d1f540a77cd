"""Time and identifiers. Tests freeze the clock instead of sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from ulid import ULID

_frozen: datetime | None = None


def now() -> datetime:
    """The current UTC time, or the frozen time inside `frozen()`."""
    return _frozen if _frozen is not None else datetime.now(UTC)


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Freeze `now()` at `at` (timezone-aware) for ladder, retention and deadline tests."""
    global _frozen
    previous, _frozen = _frozen, at
    try:
        yield
    finally:
        _frozen = previous


def advance(delta: timedelta) -> None:
    """Move a frozen clock forward."""
    global _frozen
    if _frozen is None:
        raise RuntimeError("advance() needs a frozen clock")
    _frozen = _frozen + delta


def new_id() -> str:
    """A time-ordered ULID as a 26-character string."""
    return str(ULID())
