"""Review tasks: creation, exclusive claiming with a lease, decisions and their ledger event.

Claiming is a conditional UPDATE (the lease is checked in the WHERE clause), so two reviewers
never hold the same task on SQLite or PostgreSQL — the same technique as `haven.core.jobs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from haven.banks.formats import EntryIn
from haven.banks.models import Bank
from haven.banks.service import add_entries, create_bank
from haven.core.actors import Actor
from haven.core.clock import new_id, now
from haven.core.errors import Conflict, Forbidden, Invalid, NotFound
from haven.core.ledger import audit, record_event
from haven.core.models import AuditRecord
from haven.core.settings import Settings
from haven.policy.categories import CATEGORIES, MEDIA_CLASSIFICATIONS
from haven.review.models import ReviewDecision, ReviewTask, ReviewTaskExclusion
from haven.review.queues import (
    ANNOTATIONS,
    CLASSIFICATION_SEVERITY,
    DECISIONS,
    QUEUES,
    SCORE_WEIGHT,
    SEVERITY_WEIGHT,
    SUBJECT_TYPES,
    Queue,
    get_queue,
    may_work_queue,
)
from haven.screening import quarantine
from haven.screening.models import ContentItem, QuarantineObject
from haven.signals.image import bank_variants
from haven.signals.types import REGISTRY

LEASE = timedelta(minutes=10)
LOCAL_BANK = "local_confirmed"
#: The audit purpose of a deliberate reveal: `fileViewedByEsp` is true for a file exactly when
#: an audit record `media.view` with this purpose exists for its quarantine object.
REVEAL_PURPOSE = "review.reveal"
PREVIEW_PURPOSE = "review.preview_blurred"
#: Categories whose confirmed media is banked in `local_confirmed`.
BANKED_CATEGORIES = ("csam", "csam_generated")


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def create_task(
    session: Session,
    *,
    queue: str,
    subject_type: str,
    subject_id: str,
    priority: int | None = None,
    severity: int = 1,
    score: float = 0.0,
    content_ids: list[str] | None = None,
    uploader: str | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
    child_safety: bool | None = None,
    parent_decision_id: str | None = None,
    exclude_staff: str | None = None,
    source_key: str | None = None,
    actor: str = "system:review",
    created_at: datetime | None = None,
) -> ReviewTask | None:
    """Put something in a queue for a person to decide, in the caller's transaction.

    `severity` (0-4) and `score` (0-1, e.g. a classifier's) set the priority; `priority`, when
    given, overrides the computed display value but ordering still uses severity, score and age.
    With a `source_key` the call is idempotent: a second task with the same key is not created
    (returns None). Child-safety queues make every task child-safety; elsewhere pass
    `child_safety=True` for a child-safety subject (e.g. a user report of grooming).
    """
    q = get_queue(queue)
    if subject_type not in SUBJECT_TYPES:
        raise Invalid(f"unknown subject type '{subject_type}' (one of {', '.join(SUBJECT_TYPES)})", code="bad_subject")
    if source_key is not None and session.scalar(select(ReviewTask.id).where(ReviewTask.source_key == source_key)):
        return None
    severity = max(0, min(4, int(severity)))
    score = max(0.0, min(1.0, float(score)))
    t = created_at or now()
    task = ReviewTask(
        id=new_id(),
        queue=q.id,
        subject_type=subject_type,
        subject_id=subject_id,
        content_ids=list(content_ids or ([subject_id] if subject_type == "content" else [])),
        uploader=uploader,
        child_safety=q.child_safety or bool(child_safety),
        severity=severity,
        score=score,
        priority=priority if priority is not None else severity * 100 + round(score * 100),
        rank_at=t - severity * SEVERITY_WEIGHT - score * SCORE_WEIGHT,
        due_at=t + q.sla,
        reason=reason,
        details=details or {},
        parent_decision_id=parent_decision_id,
        exclude_staff=exclude_staff,
        source_key=source_key,
        created_at=t,
    )
    session.add(task)
    session.flush()
    _sync_exclusions(session, task)
    record_event(
        session,
        "review.task_created",
        subject_type=subject_type,
        subject_id=subject_id,
        actor=actor,
        data={"task_id": task.id, "queue": q.id, "priority": task.priority, "child_safety": task.child_safety},
    )
    return task


def excluded_staff(task: ReviewTask) -> set[str]:
    """Staff ids who may not claim or decide this task: the one who asked for a second opinion,
    and for an appeal every original decider (`details["exclude_staff"]`)."""
    out = {str(x) for x in (task.details or {}).get("exclude_staff", [])}
    if task.exclude_staff:
        out.add(task.exclude_staff)
    return out


def _sync_exclusions(session: Session, task: ReviewTask) -> None:
    """One `review_task_exclusions` row per excluded person, so "next" filters them all in SQL
    (however many original deciders an appeal has)."""
    wanted = excluded_staff(task)
    if not wanted:
        return
    have = set(session.scalars(select(ReviewTaskExclusion.staff_id).where(ReviewTaskExclusion.task_id == task.id)))
    for staff_id in sorted(wanted - have):
        session.add(ReviewTaskExclusion(task_id=task.id, staff_id=staff_id))
    session.flush()


def add_or_raise_task(
    session: Session,
    *,
    queue: str,
    subject_type: str,
    subject_id: str,
    severity: int,
    score: float = 0.0,
    details: dict[str, Any] | None = None,
    **kw: Any,
) -> ReviewTask | None:
    """One open task per subject and queue: a new signal about a subject already waiting (a
    report merged into its case, a second risk family in a conversation) raises that task's
    priority instead of adding another. Otherwise `create_task` with the same arguments.
    Idempotent: raising twice to the same level changes nothing."""
    open_task = session.scalar(
        select(ReviewTask).where(
            ReviewTask.queue == queue,
            ReviewTask.subject_type == subject_type,
            ReviewTask.subject_id == subject_id,
            ReviewTask.status == "open",
        )
    )
    if open_task is None:
        return create_task(
            session,
            queue=queue,
            subject_type=subject_type,
            subject_id=subject_id,
            severity=severity,
            score=score,
            details=details,
            **kw,
        )
    source_key = kw.get("source_key")
    seen = list(open_task.details.get("merged_sources", []))
    if source_key and (source_key in seen or source_key == open_task.source_key):
        return open_task
    stronger = int(severity) > open_task.severity
    severity = max(open_task.severity, max(0, min(4, int(severity))))
    score = max(open_task.score, max(0.0, min(1.0, float(score))))
    merged = dict(open_task.details)
    for k, v in (details or {}).items():
        if isinstance(v, list):
            merged[k] = sorted({*map(str, merged.get(k, [])), *map(str, v)})
        elif isinstance(v, bool):  # flags such as imminent risk or trusted flagger: any report sets them
            merged[k] = bool(merged.get(k)) or v
        elif stronger:  # the strongest signal names the category and the rest
            merged[k] = v
        else:
            merged.setdefault(k, v)
    if source_key:
        merged["merged_sources"] = [*seen, source_key]
    if kw.get("child_safety"):
        open_task.child_safety = True
    if stronger and kw.get("reason"):
        open_task.reason = str(kw["reason"])  # the reason of the strongest signal
    if severity != open_task.severity or score != open_task.score:
        open_task.severity, open_task.score = severity, score
        open_task.priority = severity * 100 + round(score * 100)
        open_task.rank_at = _aware(open_task.created_at) - severity * SEVERITY_WEIGHT - score * SCORE_WEIGHT
    open_task.details = merged
    _sync_exclusions(session, open_task)
    record_event(
        session,
        "review.task_raised",
        subject_type=subject_type,
        subject_id=subject_id,
        actor=str(kw.get("actor", "system:review")),
        data={"task_id": open_task.id, "queue": queue, "priority": open_task.priority, "source_key": source_key},
    )
    return open_task


# --- who may do what -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reviewer:
    """A staff member as review sees them: roles, training, and the exposure budget state."""

    staff_id: str
    roles: frozenset[str]
    trained: bool
    session_id: str | None = None
    #: False once the session's or day's exposure budget is used up (or a break was taken).
    child_safety_allowed: bool = True

    @property
    def actor(self) -> Actor:
        return Actor("staff", self.staff_id, self.roles)


def queues_for(reviewer: Reviewer) -> list[Queue]:
    """Queues the person may work (child-safety queues need current training)."""
    return [
        q for q in QUEUES.values() if may_work_queue(reviewer.roles, q) and (reviewer.trained or not q.child_safety)
    ]


def may_see_task(reviewer: Reviewer, task: ReviewTask) -> bool:
    q = QUEUES.get(task.queue)
    if q is None or not may_work_queue(reviewer.roles, q):
        return False
    if task.child_safety:
        return "child_safety_reviewer" in reviewer.roles and reviewer.trained
    return True


def check_task_access(reviewer: Reviewer, task: ReviewTask) -> None:
    if not may_see_task(reviewer, task):
        q = QUEUES.get(task.queue)
        if q is not None and may_work_queue(reviewer.roles, q) and task.child_safety and not reviewer.trained:
            raise Forbidden("complete your training before working child-safety tasks", code="training_required")
        raise Forbidden("you may not work this task", code="task_forbidden")


# --- claiming --------------------------------------------------------------------------------


class BreakNeeded(Forbidden):
    code = "break_needed"


def held_task(session: Session, reviewer: Reviewer, queue: str | None = None) -> ReviewTask | None:
    """The open task the person holds a live lease on (in `queue`), if any."""
    # Only claimed_by and status in SQL: with the queue too, planners pick the backlog's
    # (status, queue, rank_at) index and walk the whole queue. A person holds one or two tasks.
    t = now()
    rows = session.scalars(
        select(ReviewTask).where(ReviewTask.claimed_by == reviewer.staff_id, ReviewTask.status == "open")
    )
    for task in rows:
        if (queue is None or task.queue == queue) and task.lease_until is not None and _aware(task.lease_until) > t:
            return task
    return None


def _candidates(session: Session, queue: str, reviewer: Reviewer, t: datetime, k: int) -> list[str]:
    q = (
        select(ReviewTask.id)
        .where(
            ReviewTask.status == "open",
            ReviewTask.queue == queue,
            or_(ReviewTask.lease_until.is_(None), ReviewTask.lease_until < t),
            or_(ReviewTask.exclude_staff.is_(None), ReviewTask.exclude_staff != reviewer.staff_id),
            # Every exclusion in SQL, not only the first: otherwise a window of tasks that all
            # exclude the person would hide the later tasks they may take.
            ~select(ReviewTaskExclusion.task_id)
            .where(ReviewTaskExclusion.task_id == ReviewTask.id, ReviewTaskExclusion.staff_id == reviewer.staff_id)
            .exists(),
        )
        .order_by(ReviewTask.rank_at, ReviewTask.id)
        .limit(k)
    )
    if not (reviewer.trained and reviewer.child_safety_allowed and "child_safety_reviewer" in reviewer.roles):
        q = q.where(ReviewTask.child_safety.is_(False))
    return list(session.scalars(q))


def claim(session: Session, task_id: str, reviewer: Reviewer) -> bool:
    """Take (or renew) the lease on one task; False when someone else holds it or it is closed."""
    t = now()
    found = session.execute(
        select(ReviewTask.exclude_staff, ReviewTask.details).where(ReviewTask.id == task_id)
    ).first()
    if found is None:
        return False
    extra = (found[1] or {}).get("exclude_staff", []) if isinstance(found[1], dict) else []
    if reviewer.staff_id in extra:
        return False  # an appeal is never claimed by one of the original deciders
    res = session.execute(
        update(ReviewTask)
        .where(
            ReviewTask.id == task_id,
            ReviewTask.status == "open",
            or_(
                ReviewTask.lease_until.is_(None),
                ReviewTask.lease_until < t,
                ReviewTask.claimed_by == reviewer.staff_id,
            ),
            or_(ReviewTask.exclude_staff.is_(None), ReviewTask.exclude_staff != reviewer.staff_id),
        )
        .values(claimed_by=reviewer.staff_id, lease_until=t + LEASE)
        .execution_options(synchronize_session=False)
    )
    return bool(res.rowcount == 1)  # type: ignore[attr-defined]


def claim_next(session: Session, reviewer: Reviewer, queue: str | None = None) -> ReviewTask | None:
    """The highest-priority task nobody else holds, leased to the reviewer (their own held task
    first). Commits the claim so other reviewers see it at once."""
    if queue:
        queues = [get_queue(queue)]
    else:  # any queue: child-safety ones only while the person's budget allows
        queues = [q for q in queues_for(reviewer) if reviewer.child_safety_allowed or not q.child_safety]
    for q in queues:
        if not may_work_queue(reviewer.roles, q):
            raise Forbidden(f"you may not work the queue '{q.title}'", code="queue_forbidden")
        if q.child_safety and not reviewer.trained:
            raise Forbidden("complete your training before claiming child-safety tasks", code="training_required")
        if q.child_safety and not reviewer.child_safety_allowed:
            raise BreakNeeded("your exposure budget is used up: take a break", code="break_needed")
    held = held_task(session, reviewer, queue)
    if held is not None and may_see_task(reviewer, held):
        claim(session, held.id, reviewer)
        session.commit()
        return held
    for _ in range(3):
        t = now()
        # Each queue's best few by its index, then merged: every query is a short index scan.
        ids: list[str] = []
        for q in queues:
            ids.extend(_candidates(session, q.id, reviewer, t, 8))
        if not ids:
            return None
        rows = session.execute(select(ReviewTask.id, ReviewTask.rank_at).where(ReviewTask.id.in_(ids))).all()
        for tid, _rank in sorted(rows, key=lambda r: (_aware(r[1]), r[0])):
            if claim(session, tid, reviewer):
                task = session.get(ReviewTask, tid)
                assert task is not None
                session.refresh(task)
                record_event(
                    session,
                    "review.task_claimed",
                    subject_type=task.subject_type,
                    subject_id=task.subject_id,
                    actor=reviewer.actor.ref,
                    data={"task_id": task.id, "queue": task.queue},
                )
                session.commit()
                return task
        session.rollback()
    return None


def release(session: Session, task: ReviewTask, reviewer: Reviewer) -> None:
    """Give a held task back to its queue."""
    if task.claimed_by != reviewer.staff_id:
        raise Conflict("you do not hold this task", code="not_holder")
    task.claimed_by = None
    task.lease_until = None
    record_event(
        session,
        "review.task_released",
        subject_type=task.subject_type,
        subject_id=task.subject_id,
        actor=reviewer.actor.ref,
        data={"task_id": task.id, "queue": task.queue},
    )


def get_task(session: Session, task_id: str) -> ReviewTask:
    task = session.get(ReviewTask, task_id)
    if task is None:
        raise NotFound(f"no task '{task_id}'", code="task_not_found")
    return task


def holds(task: ReviewTask, reviewer: Reviewer) -> bool:
    return (
        task.status == "open"
        and task.claimed_by == reviewer.staff_id
        and task.lease_until is not None
        and _aware(task.lease_until) > now()
    )


def queue_counts(session: Session) -> dict[str, dict[str, Any]]:
    """Per queue: open tasks and the earliest deadline."""
    rows = session.execute(
        select(ReviewTask.queue, ReviewTask.child_safety, func.count(), func.min(ReviewTask.due_at))
        .where(ReviewTask.status == "open")
        .group_by(ReviewTask.queue, ReviewTask.child_safety)
    ).all()
    out: dict[str, dict[str, Any]] = {}
    for queue, cs, n, due in rows:
        d = out.setdefault(queue, {"open": 0, "child_safety_open": 0, "next_due": None})
        d["open"] += n
        if cs:
            d["child_safety_open"] += n
        due = _aware(due) if due is not None else None
        if due is not None and (d["next_due"] is None or due < d["next_due"]):
            d["next_due"] = due
    return out


# --- decisions -------------------------------------------------------------------------------


def _previous_final(session: Session, task: ReviewTask) -> ReviewDecision | None:
    return session.scalar(
        select(ReviewDecision)
        .where(
            ReviewDecision.subject_type == task.subject_type,
            ReviewDecision.subject_id == task.subject_id,
            ReviewDecision.decision.in_(("violation", "no_violation")),
        )
        .order_by(ReviewDecision.created_at.desc(), ReviewDecision.id.desc())
        .limit(1)
    )


def _settled_by(session: Session, task: ReviewTask) -> str:
    """Which decision settled a resolved task, in words: a reviewer's decision on another task
    (through its enforcement decision), or the enforcement decision itself."""
    from haven.enforce.models import EnforcementDecision

    ref = (task.details or {}).get("resolved_by")
    enforcement = session.get(EnforcementDecision, ref) if ref else None
    review = session.get(ReviewDecision, enforcement.source_ref) if enforcement and enforcement.source_ref else None
    if review is not None:
        what = review.decision.replace("_", " ") + (f", {review.category}" if review.category else "")
        subject = review.subject_type.replace("_", " ")
        return f"a reviewer's decision on {subject} {review.subject_id}: {what}"
    if enforcement is not None:
        return f"enforcement decision {enforcement.id}: {enforcement.outcome}"
    return f"decision {ref or 'unknown'}"


def decide(
    session: Session,
    settings: Settings,
    task: ReviewTask,
    reviewer: Reviewer,
    *,
    decision: str,
    category: str | None = None,
    classification: str | None = None,
    annotations: list[str] | None = None,
    note: str = "",
) -> ReviewDecision:
    """Record a decision on a held task, close it, write `review.decision`, and follow up:
    escalate and second opinion create the next task; a confirmed violation of a banked
    category adds the media's hashes to the `local_confirmed` bank."""
    check_task_access(reviewer, task)
    if task.status == "resolved":
        raise Conflict(
            f"a decision on the same incident already settled this task ({_settled_by(session, task)}): "
            "nothing is left to decide here",
            code="already_resolved",
            details={"resolved_by": task.details.get("resolved_by"), "queue": task.queue},
        )
    if reviewer.staff_id in excluded_staff(task):
        raise Forbidden(
            "this task must be decided by someone else (you took part in the decision it follows up)",
            code="same_reviewer",
        )
    if not holds(task, reviewer):
        raise Conflict("claim this task before deciding (your lease may have expired)", code="not_holder")
    if decision not in DECISIONS:
        raise Invalid(f"unknown decision '{decision}' (one of {', '.join(DECISIONS)})", code="bad_decision")
    annotations = sorted(set(annotations or []))
    category = category or None
    classification = classification or None
    if decision == "violation":
        if category is None or category not in CATEGORIES:
            raise Invalid(f"a violation needs a policy category (one of {', '.join(CATEGORIES)})", code="bad_category")
        if classification is not None and classification not in MEDIA_CLASSIFICATIONS:
            raise Invalid(
                f"classification must be one of {', '.join(MEDIA_CLASSIFICATIONS)}", code="bad_classification"
            )
        bad = [a for a in annotations if a not in ANNOTATIONS]
        if bad:
            raise Invalid(f"unknown annotation(s) {', '.join(bad)}", code="bad_annotation")
        if (
            CATEGORIES[category].child_safety
            and category in BANKED_CATEGORIES
            and task.content_ids
            and classification is None
        ):
            raise Invalid("classify the media (A1, A2, B1, B2 or not on the scale)", code="classification_required")
    elif category or classification or annotations:
        raise Invalid("only a violation carries a category, classification or annotations", code="labels_not_allowed")
    if decision == "escalate" and task.queue == "escalations":
        raise Invalid("this is already an escalation: decide it, or ask for a second opinion", code="bad_decision")
    if len(note) > 10_000:
        raise Invalid("a note may have at most 10,000 characters", code="note_too_long")
    overturns = None
    if decision in ("violation", "no_violation"):
        prev = _previous_final(session, task)
        if prev is not None and (prev.decision != decision or prev.category != category):
            overturns = prev.id
    t = now()
    row = ReviewDecision(
        id=new_id(),
        task_id=task.id,
        queue=task.queue,
        subject_type=task.subject_type,
        subject_id=task.subject_id,
        decision=decision,
        category=category if decision == "violation" else None,
        classification=classification if decision == "violation" else None,
        annotations=annotations,
        note=note,
        reviewer=reviewer.staff_id,
        session_id=reviewer.session_id,
        child_safety=task.child_safety,
        uploader=task.uploader,
        content_ids=list(task.content_ids),
        overturns=overturns,
        created_at=t,
    )
    session.add(row)
    task.status = "done"
    task.closed_at = t
    task.lease_until = None
    session.flush()
    record_event(
        session,
        "review.decision",
        subject_type=task.subject_type,
        subject_id=task.subject_id,
        actor=reviewer.actor.ref,
        data={
            "decision_id": row.id,
            "task_id": task.id,
            "queue": task.queue,
            "decision": decision,
            "category": row.category,
            "classification": row.classification,
            "annotations": annotations,
            "reviewer": reviewer.staff_id,
            "uploader": task.uploader,
            "content_ids": list(task.content_ids),
            "automated": False,
            "overturns": overturns,
        }
        | ({"appeal_id": task.details["appeal_id"]} if task.details.get("appeal_id") else {}),
    )
    audit(
        session,
        actor=reviewer.actor.ref,
        action="review.decision",
        object_type=task.subject_type,
        object_id=task.subject_id,
        details={"decision_id": row.id, "task_id": task.id, "decision": decision},
    )
    common: dict[str, Any] = dict(
        subject_type=task.subject_type,
        subject_id=task.subject_id,
        severity=task.severity,
        score=task.score,
        content_ids=list(task.content_ids),
        uploader=task.uploader,
        child_safety=task.child_safety,
        parent_decision_id=row.id,
        actor=reviewer.actor.ref,
        details=dict(task.details),
    )
    if decision == "escalate":
        create_task(session, queue="escalations", reason=f"escalated from {task.queue}: {note}".strip(), **common)
    elif decision == "second_opinion":
        create_task(
            session,
            queue=task.queue,
            exclude_staff=reviewer.staff_id,
            reason=f"second opinion asked: {note}".strip(),
            **common,
        )
    elif decision == "violation" and category in BANKED_CATEGORIES and task.content_ids:
        bank_confirmed(
            session, settings, task.content_ids, classification, actor=reviewer.actor.ref, decision_id=row.id
        )
    return row


def bank_confirmed(
    session: Session,
    settings: Settings,
    content_ids: list[str],
    classification: str | None,
    *,
    actor: str,
    decision_id: str,
) -> list[str]:
    """Add confirmed media's hashes (and PDQ of centre crops when the bytes are quarantined) to
    the `local_confirmed` bank, so re-uploads are caught without anyone viewing them again."""

    bank = session.scalar(select(Bank).where(Bank.name == LOCAL_BANK))
    if bank is None:
        bank = create_bank(
            session,
            name=LOCAL_BANK,
            kind="local_confirmed",
            actor=actor,
            description="Media the service's own reviewers confirmed",
        )
    label = classification if classification in CLASSIFICATION_SEVERITY else None
    added: list[str] = []
    for cid in content_ids:
        item = session.get(ContentItem, cid)
        if item is None or item.media_kind not in ("image", "video"):
            continue
        ref = f"review:{decision_id}"
        entries: list[EntryIn] = []
        variants: dict[int, list[tuple[str, str]]] = {}
        if item.pdq and item.media_kind == "image":
            entries.append(EntryIn("pdq", item.pdq, label, ref))
            if item.quarantine_id:
                try:
                    data = quarantine.read(
                        session,
                        settings,
                        item.quarantine_id,
                        actor="system:review",
                        purpose="bank.confirmed_variants",
                        action=quarantine.MACHINE_READ,
                    )
                    variants[0] = bank_variants(data, max_pixels=settings.max_image_pixels)[1]
                except Exception:  # the exact hashes are still banked
                    variants = {}
        for t in REGISTRY.for_purpose("bank"):  # the exact hashes the item was stored with
            value = getattr(item, t.name, None) if t.exact else None
            if value:
                entries.append(EntryIn(t.name, value, label, ref))
        if entries:
            added += add_entries(session, bank, entries, actor=actor, variants=variants)
    return added


# --- exposure --------------------------------------------------------------------------------


def budget_counts(session: Session, staff_id: str, session_id: str | None) -> tuple[int, int]:
    """Child-safety items decided in this session and today (UTC), in one query."""
    from sqlalchemy import case

    day = now().replace(hour=0, minute=0, second=0, microsecond=0)
    row = session.execute(
        select(
            func.count(case((ReviewDecision.session_id == session_id, 1))),
            func.count(),
        ).where(
            ReviewDecision.reviewer == staff_id,
            ReviewDecision.child_safety.is_(True),
            ReviewDecision.created_at >= day,
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


def exposure(session: Session, staff_id: str, session_id: str | None) -> dict[str, int]:
    """Child-safety items decided in this session, today (UTC) and over the last 7 and 30 days,
    and reveals of media today."""

    t = now()
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)

    def count(since: datetime | None = None, sess: str | None = None) -> int:
        q = (
            select(func.count())
            .select_from(ReviewDecision)
            .where(ReviewDecision.reviewer == staff_id, ReviewDecision.child_safety.is_(True))
        )
        if since is not None:
            q = q.where(ReviewDecision.created_at >= since)
        if sess is not None:
            q = q.where(ReviewDecision.session_id == sess)
        return int(session.scalar(q) or 0)

    reveals = session.scalar(
        select(func.count())
        .select_from(AuditRecord)
        .where(
            AuditRecord.actor == f"staff:{staff_id}",
            AuditRecord.action == "media.view",
            AuditRecord.purpose == REVEAL_PURPOSE,
            AuditRecord.created_at >= day,
        )
    )
    return {
        "session": count(sess=session_id) if session_id else 0,
        "today": count(day),
        "week": count(t - timedelta(days=7)),
        "month": count(t - timedelta(days=30)),
        "reveals_today": int(reveals or 0),
    }


@dataclass(frozen=True)
class FileView:
    quarantine_id: str
    content_id: str
    actor: str
    viewed_at: datetime


def file_views(session: Session, content_id: str) -> list[FileView]:
    """Deliberate reveals of a content item's file by staff: what `fileViewedByEsp` is built from."""

    ids = list(session.scalars(select(QuarantineObject.id).where(QuarantineObject.content_id == content_id)))
    if not ids:
        return []
    rows = session.scalars(
        select(AuditRecord)
        .where(
            AuditRecord.action == "media.view",
            AuditRecord.object_type == "quarantine_object",
            AuditRecord.object_id.in_(ids),
            AuditRecord.purpose == REVEAL_PURPOSE,
            AuditRecord.actor.like("staff:%"),
        )
        .order_by(AuditRecord.created_at)
    )
    return [FileView(r.object_id, content_id, r.actor, _aware(r.created_at)) for r in rows]


EXIF_VIEW = "media.exif_view"
EXIF_PURPOSE = "review.exif_view"


def read_exif(
    session: Session, settings: Settings, content_id: str, *, actor: str, source_ip: str | None = None
) -> list[tuple[str, str]]:
    """Show a person a file's metadata (EXIF: camera, times, places), never its picture.

    The bytes are read as a machine read (`media.read`, not a view of the file), and the person's
    looking at the metadata is written as `media.exif_view` on the quarantine object — the record
    a CyberTipline report uses for `exifViewedByEsp`. Authorisation is the caller's (the task page
    checks that the person holds the task). Returns (tag, value) pairs; empty when there is none.
    """
    import io

    from PIL import ExifTags, Image, UnidentifiedImageError

    item = session.get(ContentItem, content_id)
    if item is None or not item.quarantine_id:
        raise NotFound("no quarantined file for this item", code="object_not_found")
    data = quarantine.read(
        session,
        settings,
        item.quarantine_id,
        actor=actor,
        purpose=EXIF_PURPOSE,
        source_ip=source_ip,
        action=quarantine.MACHINE_READ,
    )
    audit(
        session,
        actor=actor,
        action=EXIF_VIEW,
        object_type="quarantine_object",
        object_id=item.quarantine_id,
        purpose=EXIF_PURPOSE,
        source_ip=source_ip,
        details={"content_id": item.id},
    )
    rows: list[tuple[str, str]] = []
    try:
        exif = Image.open(io.BytesIO(data)).getexif()
    except (UnidentifiedImageError, OSError, ValueError):
        return rows

    def show(v: Any) -> str:
        if isinstance(v, bytes):
            return f"({len(v)} bytes)"
        text = str(v)
        return text if len(text) <= 200 else text[:200] + "…"

    for tag, value in exif.items():
        if tag in (ExifTags.Base.ExifOffset, ExifTags.Base.GPSInfo):
            continue  # pointers to the sub-directories listed below
        rows.append((ExifTags.TAGS.get(tag, f"Tag {tag}"), show(value)))
    for ifd_id in (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo):
        names = ExifTags.GPSTAGS if ifd_id == ExifTags.IFD.GPSInfo else ExifTags.TAGS
        prefix = "GPS " if ifd_id == ExifTags.IFD.GPSInfo else ""
        for tag, value in exif.get_ifd(ifd_id).items():
            rows.append((prefix + str(names.get(tag, f"Tag {tag}")), show(value)))
    return rows
