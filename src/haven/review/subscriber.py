"""Tasks from intake verdicts: every `content.verdict` of `review`, and every `block` that a
person must confirm, becomes a task (once per event, however often the worker retries)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.banks.models import Bank, Match
from haven.core.ledger import subscribe
from haven.core.models import Event
from haven.review.queues import CLASSIFICATION_SEVERITY, QUEUES
from haven.review.service import create_task
from haven.screening.models import ContentItem

PRIORITY_SEVERITY = {"VERY_HIGH": 4, "HIGH": 3, "MEDIUM": 2, "LOW": 1}


def queue_for_verdict(rule: str, media_kind: str, requested: str | None = None) -> str:
    """Which queue a verdict goes to: an explicit queue from the rule, else by the rule's family."""
    if requested in QUEUES:
        return requested
    if rule.startswith("known_material"):
        return "known_material"
    if any(word in rule for word in ("grooming", "sextortion", "enticement")):
        return "grooming"
    if media_kind in ("image", "video", "file"):
        return "new_material"
    return "grooming" if media_kind == "text" else "user_reports"


def _max_score(scores: dict[str, object]) -> float:
    best = 0.0
    for v in scores.values():
        inner = v.get("scores", {}) if isinstance(v, dict) else {}
        for x in inner.values() if isinstance(inner, dict) else []:
            if isinstance(x, int | float):
                best = max(best, float(x))
    return best


def needs_confirmation(session: Session, item: ContentItem) -> bool:
    """A block needs a person unless every active match is in a `local_confirmed` bank (media a
    reviewer of this service has already confirmed: no one needs to see it again)."""

    kinds = session.execute(
        select(Bank.kind)
        .join(Match, Match.bank_id == Bank.id)
        .where(Match.content_id == item.id, Match.status == "active")
    ).scalars()
    found = set(kinds)
    return not found or found != {"local_confirmed"}


def _may_need_task(data: Mapping[str, Any]) -> bool:
    action = data.get("action")
    return action in ("review", "block") and data.get("previous_action") != action


@subscribe("content.verdict", name="review-tasks", when=_may_need_task)
def task_from_verdict(session: Session, event: Event) -> None:
    # Not for a later settlement that left the verdict as it was (deferred classifiers, video
    # frames): the first settlement's task stands. Opening one from such an event raced the
    # first and could leave a known-material task at severity 2 instead of its A1's 4.
    if not _may_need_task(event.data):
        return
    action = event.data["action"]
    item = session.get(ContentItem, event.subject_id)
    if item is None:
        return
    if action == "block" and not needs_confirmation(session, item):
        return
    rule = str(event.data.get("rule", ""))
    labels = [str(x) for x in event.data.get("labels", [])]
    # The classifiers' "possible new material" priority (VERY_HIGH for explicit media sent to
    # minors, ...) counts like a classification of the same weight.
    priority = PRIORITY_SEVERITY.get(str(event.data.get("priority", "")), 0)
    severity = max([CLASSIFICATION_SEVERITY.get(x, 0) for x in labels] + [priority, 2 if action == "block" else 1])
    create_task(
        session,
        queue=queue_for_verdict(rule, item.media_kind, event.data.get("queue")),
        subject_type="content",
        subject_id=item.id,
        content_ids=[item.id],
        uploader=item.uploader,
        severity=severity,
        score=_max_score(item.scores or {}),
        reason=f"{action}: {item.verdict_reason or rule}",
        details={"verdict": action, "rule": rule, "labels": labels, "event_id": event.id},
        source_key=f"verdict:{event.id}",
        created_at=event.created_at,
    )
