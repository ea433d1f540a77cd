"""Whether traffic came from a test-mode integration, for work the worker does later (a
webhook, a CyberTipline submission) where there is no principal to ask: the content items and
conversations it is about carry the integration they came in through."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.classify.models import Conversation
from haven.core.auth import integration_is_test
from haven.screening.models import ContentItem


def traffic_is_test(session: Session, *, content_ids: Iterable[str] = (), conversation_ids: Iterable[str] = ()) -> bool:
    """True when any of these content items or conversations came from a test-mode key."""
    cids, convs = {c for c in content_ids if c}, {c for c in conversation_ids if c}
    integrations: set[str] = set()
    if cids:
        integrations |= set(session.scalars(select(ContentItem.integration_id).where(ContentItem.id.in_(cids))))
    if convs:
        integrations |= set(session.scalars(select(Conversation.integration_id).where(Conversation.id.in_(convs))))
    return integration_is_test(session, integrations)
