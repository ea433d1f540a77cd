"""The review queues, who may work each, and their service-level deadlines.

Access is decided per task as well as per queue: a child-safety task (in whichever queue, for
example an escalation of a child-safety item) is served and shown only to a person with the
`child_safety_reviewer` role whose training is current (the leaks of coop#1153/#1154 came from
checking only the queue).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from haven.core.errors import Invalid


@dataclass(frozen=True)
class Queue:
    id: str
    title: str
    #: Roles that may work the queue (any one of them).
    roles: tuple[str, ...]
    #: Every task of a child-safety queue is a child-safety task.
    child_safety: bool
    sla: timedelta
    description: str


QUEUES: dict[str, Queue] = {
    q.id: q
    for q in (
        Queue(
            "known_material",
            "Known-material confirmation",
            ("child_safety_reviewer",),
            True,
            timedelta(hours=24),
            "Blocks and near matches against hash banks that a person confirms before reporting.",
        ),
        Queue(
            "new_material",
            "Possible new material",
            ("child_safety_reviewer",),
            True,
            timedelta(hours=24),
            "Media that no bank knows, flagged by classifiers or reports.",
        ),
        Queue(
            "grooming",
            "Grooming and sextortion",
            ("child_safety_reviewer",),
            True,
            timedelta(hours=4),
            "Conversations flagged for grooming, enticement or sextortion: time matters.",
        ),
        Queue(
            "financial",
            "Financial",
            ("child_safety_reviewer", "senior"),
            False,
            timedelta(hours=4),
            "Payments held or flagged by financial rules, with the money trail beside the conversations "
            "and content of the same accounts: release, keep or escalate.",
        ),
        Queue(
            "user_reports",
            "User reports",
            ("reviewer", "child_safety_reviewer", "senior"),
            False,
            timedelta(hours=24),
            "Reports from users that are not about child safety.",
        ),
        Queue(
            "appeals", "Appeals", ("senior",), False, timedelta(hours=72), "Users' appeals, decided by someone else."
        ),
        Queue(
            "escalations",
            "Escalations",
            ("senior",),
            False,
            timedelta(hours=8),
            "Escalated tasks and second opinions that need a senior reviewer.",
        ),
    )
}

#: Annotations a violation may carry (the CyberTipline file annotations they map to).
ANNOTATIONS: dict[str, str] = {
    "possible_self_production": "Possible self-production",
    "generative_ai": "Generative AI",
    "viral": "Viral",
    "potential_meme": "Potential meme",
    "live_streaming": "Live streaming",
}

DECISIONS = ("violation", "no_violation", "escalate", "second_opinion")
SUBJECT_TYPES = ("content", "account", "conversation", "notice_case")

#: Priority: each severity step counts as this much waiting time, and a classifier score of 1.0
#: as SCORE_WEIGHT; "next" serves the smallest creation time minus these bonuses.
SEVERITY_WEIGHT = timedelta(hours=4)
SCORE_WEIGHT = timedelta(hours=4)

#: Severity of media by industry classification.
CLASSIFICATION_SEVERITY = {"A1": 4, "A2": 3, "B1": 3, "B2": 2}


def get_queue(queue_id: str) -> Queue:
    try:
        return QUEUES[queue_id]
    except KeyError:
        raise Invalid(f"unknown queue '{queue_id}' (one of {', '.join(QUEUES)})", code="unknown_queue") from None


def may_work_queue(roles: frozenset[str] | set[str], queue: Queue) -> bool:
    """Role check only; child-safety tasks also need training (see `haven.review.service`)."""
    if queue.child_safety and "child_safety_reviewer" not in roles:
        return False
    return bool(set(roles) & set(queue.roles))
