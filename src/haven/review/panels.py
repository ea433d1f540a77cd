"""Task-page panels that other capabilities contribute for their own queues.

Review owns the task page, but what a financial task must show (the money trail) belongs to
finance. Finance registers a panel for its queue here instead of review importing finance, so the
folders keep one direction (finance -> review) and a new queue brings its own panel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy.orm import Session

from haven.review.models import ReviewTask


class Panel(Protocol):
    def __call__(
        self, session: Session, task: ReviewTask, *, actor: str, purpose: str, source_ip: str | None
    ) -> dict[str, Any] | None: ...


_PANELS: dict[str, Panel] = {}


def register(queue: str) -> Callable[[Panel], Panel]:
    """Decorator: `fn` builds the panel of tasks in `queue` (it audits what it reads)."""

    def wrap(fn: Panel) -> Panel:
        _PANELS[queue] = fn
        return fn

    return wrap


def panel_for(queue: str) -> Panel | None:
    return _PANELS.get(queue)
