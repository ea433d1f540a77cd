"""Review: queues with priority and deadlines, exclusive claiming, decisions with labels,
escalation and second opinions, and the console pages where people do it.

Public for other capabilities:
- `create_task(session, queue=..., subject_type=..., subject_id=..., priority=..., ...)` puts
  something in a queue (user reports, appeals, grooming flags).
- The ledger event `review.decision` (see `haven.review.service.decide`) is the contract that
  enforcement and reporting consume.
- `file_views(session, content_id)`: the deliberate reveals of a file, for `fileViewedByEsp`.
"""

from haven.core.capability import Capability
from haven.review.queues import ANNOTATIONS, DECISIONS, QUEUES, Queue
from haven.review.service import REVEAL_PURPOSE, FileView, Reviewer, claim_next, create_task, decide, file_views

__all__ = [
    "ANNOTATIONS",
    "DECISIONS",
    "QUEUES",
    "REVEAL_PURPOSE",
    "FileView",
    "Queue",
    "Reviewer",
    "claim_next",
    "create_task",
    "decide",
    "file_views",
]

CAPABILITY = Capability(
    name="review",
    summary="Review queues, claims, decisions and reviewers' wellbeing.",
    pages=("haven.review.pages:router",),
    models=("haven.review.models",),
    data=("haven.review.data_inventory",),
    subscribers=("haven.review.inbound", "haven.review.subscriber"),
)
