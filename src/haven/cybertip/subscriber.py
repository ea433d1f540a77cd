"""Reporting's ledger subscription: a confirmed child-safety violation opens a draft report case."""

from __future__ import annotations

from sqlalchemy.orm import Session

from haven.core.ledger import subscribe
from haven.core.models import Event
from haven.core.settings import get_settings
from haven.cybertip.cases import open_from_decision


@subscribe("review.decision", name="reporting")
def on_review_decision(session: Session, event: Event) -> None:
    """Idempotent: a second run for the same decision finds the case it opened."""
    open_from_decision(session, get_settings(), event)
