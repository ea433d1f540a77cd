"""Who may take an open task, and the tasks nobody on staff may take.

An appeal of a child-safety decision needs a reviewer who holds `child_safety_reviewer` and
`senior`, whose training is current, and who did not take part in the appealed decision. A small
service may have no such person: the task then waits for ever while the queue says "Open: 1" and
"Nothing left for you". This module says why a task is not offered (to the person asking, on the
queue page) and which tasks no current staff member may take (to admins: a console banner, the
`haven_review_unstaffed_tasks` gauge on `/metrics`, and a `review.task_unstaffed` event, with a
webhook, when a new task has nobody).

Cost: tasks without exclusions are counted per (queue, child-safety) in one grouped query; only
tasks with exclusions (appeals, second opinions: a few) are looked at one by one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Gauge
from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from haven.core.clock import now
from haven.core.metrics import on_scrape
from haven.review.models import ReviewTask, ReviewTaskExclusion
from haven.review.queues import QUEUES, may_work_queue
from haven.review.service import Reviewer, excluded_staff, may_see_task
from haven.staff import training
from haven.staff.models import StaffMember


@dataclass(frozen=True)
class Unstaffed:
    """Open tasks of one kind that no current staff member may take."""

    queue: str
    child_safety: bool
    count: int
    oldest_due: datetime | None
    reason: str

    @property
    def overdue(self) -> bool:
        return self.oldest_due is not None and self.oldest_due.replace(tzinfo=None) < now().replace(tzinfo=None)


def _excluded(session: Session, task: ReviewTask) -> set[str]:
    """Everyone kept off this task: the `exclude_staff` column, its details and its exclusion rows."""
    rows = session.scalars(select(ReviewTaskExclusion.staff_id).where(ReviewTaskExclusion.task_id == task.id))
    return excluded_staff(task) | set(rows)


def staff_reviewers(session: Session) -> list[Reviewer]:
    """Every enabled staff member as review sees them (roles and training)."""
    people = []
    for st in session.scalars(select(StaffMember).where(StaffMember.disabled_at.is_(None))):
        roles = frozenset(st.roles or [])
        trained = "child_safety_reviewer" in roles and training.is_current(session, st.id)
        people.append(Reviewer(st.id, roles, trained))
    return people


def requirement(task_queue: str, child_safety: bool) -> str:
    """What a person needs to take a task of this kind, in words."""
    q = QUEUES[task_queue]
    roles = " or ".join(q.roles)
    if child_safety or q.child_safety:
        extra = "" if q.roles == ("child_safety_reviewer",) else f" and also {roles}"
        return f"the child_safety_reviewer role with current training{extra}"
    return f"the {roles} role"


def _reason(people: list[Reviewer], task: ReviewTask, excluded: set[str]) -> str:
    need = requirement(task.queue, task.child_safety)
    holders = [p for p in people if may_work_queue(p.roles, QUEUES[task.queue])]
    if task.child_safety:
        untrained = [p for p in holders if "child_safety_reviewer" in p.roles and not p.trained]
        holders = [p for p in holders if "child_safety_reviewer" in p.roles and p.trained]
    else:
        untrained = []
    if not holders:
        tail = f" ({len(untrained)} hold the roles but their training is not current)" if untrained else ""
        return f"needs {need}: nobody on staff has it{tail}"
    took_part = [p for p in holders if p.staff_id in excluded]
    return (
        f"needs {need}, from someone who did not take part in the decision it follows up: "
        f"the {len(took_part)} who qualify took part"
    )


def unstaffed(session: Session, people: list[Reviewer] | None = None) -> list[Unstaffed]:
    """Open tasks that no enabled staff member may take, grouped by queue and reason."""
    people = staff_reviewers(session) if people is None else people
    out: dict[tuple[str, bool, str], list[datetime | None]] = {}
    with_exclusions = (
        select(ReviewTaskExclusion.task_id)
        .join(ReviewTask, ReviewTask.id == ReviewTaskExclusion.task_id)
        .where(ReviewTask.status == "open")
    )
    special = set(session.scalars(with_exclusions)) | set(
        session.scalars(select(ReviewTask.id).where(ReviewTask.status == "open", ReviewTask.exclude_staff.is_not(None)))
    )
    grouped = session.execute(
        select(ReviewTask.queue, ReviewTask.child_safety, func.count(), func.min(ReviewTask.due_at))
        .where(ReviewTask.status == "open", ReviewTask.id.not_in(special) if special else true())
        .group_by(ReviewTask.queue, ReviewTask.child_safety)
    ).all()
    result: list[Unstaffed] = []
    for queue, child_safety, count, due in grouped:
        if queue not in QUEUES:
            continue
        probe = ReviewTask(queue=queue, child_safety=bool(child_safety), details={})
        if not any(may_see_task(p, probe) for p in people):
            result.append(Unstaffed(queue, bool(child_safety), int(count), due, _reason(people, probe, set())))
    for task in session.scalars(select(ReviewTask).where(ReviewTask.id.in_(special))) if special else []:
        if task.queue not in QUEUES:
            continue
        excluded = _excluded(session, task)
        if any(may_see_task(p, task) and p.staff_id not in excluded for p in people):
            continue
        out.setdefault((task.queue, task.child_safety, _reason(people, task, excluded)), []).append(task.due_at)
    for (queue, child_safety, reason), dues in out.items():
        known = [d for d in dues if d is not None]
        result.append(Unstaffed(queue, child_safety, len(dues), min(known) if known else None, reason))
    return sorted(result, key=lambda u: (u.oldest_due is None, u.oldest_due or now(), u.queue))


def task_is_unstaffed(session: Session, task: ReviewTask, people: list[Reviewer] | None = None) -> str | None:
    """Why nobody may take this task, or None when someone may."""
    people = staff_reviewers(session) if people is None else people
    excluded = _excluded(session, task)
    if any(may_see_task(p, task) and p.staff_id not in excluded for p in people):
        return None
    return _reason(people, task, excluded)


def not_offered(session: Session, reviewer: Reviewer, queue: str) -> dict[str, int]:
    """Why open tasks of `queue` are not offered to this person: counts by reason (for the queue
    page, so "Nothing left for you" beside "Open: 1" explains itself)."""
    reasons: dict[str, int] = {}
    t = now()
    for task in session.scalars(select(ReviewTask).where(ReviewTask.status == "open", ReviewTask.queue == queue)):
        excluded = _excluded(session, task)
        if not may_see_task(reviewer, task):
            why = f"needs {requirement(task.queue, task.child_safety)}"
        elif reviewer.staff_id in excluded:
            why = "you took part in the decision it follows up (appeals and second opinions go to someone else)"
        elif task.child_safety and not reviewer.child_safety_allowed:
            why = "your exposure budget for child-safety material is used up"
        elif task.lease_until is not None and task.lease_until.replace(tzinfo=None) > t.replace(tzinfo=None):
            why = "someone else is working on it"
        else:
            continue
        reasons[why] = reasons.get(why, 0) + 1
        if sum(reasons.values()) >= 500:
            break  # a page, not an audit: enough to say why
    return reasons


UNSTAFFED = Gauge("haven_review_unstaffed_tasks", "Open review tasks that no enabled staff member may take", ["queue"])
OVERDUE_UNSTAFFED = Gauge(
    "haven_review_unstaffed_overdue_tasks", "Of those, groups whose oldest task is past its SLA", ["queue"]
)
_last_refresh = [0.0]
REFRESH_SECONDS = 30.0


@on_scrape
def refresh_gauges(db: object, *, force: bool = False) -> None:
    """Set the gauges from the database, at most every 30 s however often Prometheus scrapes."""
    if not force and time.monotonic() - _last_refresh[0] < REFRESH_SECONDS:
        return
    _last_refresh[0] = time.monotonic()
    with db.session() as s:  # type: ignore[attr-defined]
        rows = unstaffed(s)
    counts: dict[str, int] = dict.fromkeys(QUEUES, 0)
    overdue: dict[str, int] = dict.fromkeys(QUEUES, 0)
    for u in rows:
        counts[u.queue] = counts.get(u.queue, 0) + u.count
        overdue[u.queue] = overdue.get(u.queue, 0) + (u.count if u.overdue else 0)
    for q, n in counts.items():
        UNSTAFFED.labels(queue=q).set(n)
        OVERDUE_UNSTAFFED.labels(queue=q).set(overdue.get(q, 0))
