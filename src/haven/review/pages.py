"""Console pages of review: the queue list, "next task", the task page with blurred media and
deliberate reveals, decisions (keyboard-driven), the exposure page and the break screen."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from haven.accounts.models import Account
from haven.banks.models import Bank, Match
from haven.classify.models import ConversationMessage, MessageAttachment
from haven.classify.review import conversation_for_review
from haven.console.web import (
    PREFIX,
    ConsoleError,
    StaffContext,
    add_template_dir,
    console_router,
    csrf_protect,
    current_staff,
    redirect,
    render,
)
from haven.core.clock import now
from haven.core.db import Database
from haven.core.errors import Forbidden, NotFound
from haven.core.ledger import audit
from haven.core.web import client_ip
from haven.enforce import strikes
from haven.enforce.models import Appeal
from haven.enforce.notices.models import UserReport
from haven.policy.categories import CATEGORIES, MEDIA_CLASSIFICATIONS
from haven.review.followups import what_followed
from haven.review.models import ReviewDecision, ReviewTask
from haven.review.panels import panel_for
from haven.review.queues import ANNOTATIONS, QUEUES, get_queue, may_work_queue
from haven.review.service import (
    PREVIEW_PURPOSE,
    REVEAL_PURPOSE,
    BreakNeeded,
    Reviewer,
    budget_counts,
    check_task_access,
    claim,
    claim_next,
    decide,
    exposure,
    get_task,
    holds,
    queue_counts,
    read_exif,
    release,
)
from haven.review.staffing import not_offered, unstaffed
from haven.screening import quarantine
from haven.screening.models import ContentItem
from haven.signals.image import sniff_media_kind
from haven.staff import training, wellness
from haven.staff.models import StaffSession

log = logging.getLogger("haven.review")
add_template_dir(Path(__file__).resolve().parent / "templates")
router = console_router()
Me = Annotated[StaffContext, Depends(current_staff())]
REVIEW_ROLES = ("reviewer", "child_safety_reviewer", "senior")
Rev = Annotated[StaffContext, Depends(current_staff(*REVIEW_ROLES))]
CSRF = [Depends(csrf_protect)]


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def budget_state(s: Session, me: StaffContext) -> tuple[dict[str, int], dict[str, Any], str | None]:
    """Exposure counts, preferences, and which budget is used up ("session", "day" or None)."""
    exp = exposure(s, me.staff_id, me.session_id)
    prefs = wellness.preferences(me.preferences)
    over = (
        "day" if exp["today"] >= prefs["per_day"] else ("session" if exp["session"] >= prefs["per_session"] else None)
    )
    return exp, prefs, over


def reviewer_for(s: Session, me: StaffContext) -> Reviewer:
    """Roles, training and the exposure budget of the signed-in person, for review's checks."""
    trained = "child_safety_reviewer" in me.roles and training.is_current(s, me.staff_id)
    allowed = True
    if trained:
        prefs = wellness.preferences(me.preferences)
        in_session, today = budget_counts(s, me.staff_id, me.session_id)
        allowed = in_session < prefs["per_session"] and today < prefs["per_day"]
    return Reviewer(me.staff_id, me.roles, trained, me.session_id, allowed)


# --- queue list --------------------------------------------------------------------------------


def _queue_rows(s: Session, me: StaffContext, r: Reviewer) -> list[dict[str, Any]]:
    counts = queue_counts(s)
    rows = []
    t = now()
    for q in QUEUES.values():
        if not may_work_queue(me.roles, q):
            continue
        c = counts.get(q.id, {"open": 0, "child_safety_open": 0, "next_due": None})
        why = ""
        if q.child_safety and not r.trained:
            why = "training needed"
        elif q.child_safety and not r.child_safety_allowed:
            why = "paused: exposure budget"
        rows.append(
            {
                "queue": q,
                "open": c["open"],
                "next_due": c["next_due"],
                "overdue": c["next_due"] is not None and c["next_due"] < t,
                "can_claim": not why,
                "why": why,
            }
        )
    return rows


@router.get("/")
def home(request: Request, me: Me) -> Response:
    with _db(request).session() as s:
        r = reviewer_for(s, me)
        rows = _queue_rows(s, me, r)
        # Admins are told when a queue holds tasks that nobody on staff may take (an appeal of a
        # child-safety decision with no other trained senior, say): they are the ones who can fix it.
        stuck = unstaffed(s) if "admin" in me.roles else []
    return render(
        request,
        "home.html",
        {
            "queues": rows,
            "trained": r.trained,
            "cs_role": "child_safety_reviewer" in me.roles,
            "cs_allowed": r.child_safety_allowed,
            "unstaffed": stuck,
            "queue_titles": {q.id: q.title for q in QUEUES.values()},
        },
        me=me,
    )


@router.get("/queues/table")
def queue_table(request: Request, me: Me) -> Response:
    with _db(request).session() as s:
        rows = _queue_rows(s, me, reviewer_for(s, me))
    return render(request, "queue_table.html", {"queues": rows}, me=me)


@router.get("/queues/{queue_id}")
def queue_page(request: Request, me: Rev, queue_id: str, empty: bool = False) -> Response:
    q = get_queue(queue_id)
    if not may_work_queue(me.roles, q):
        raise Forbidden(f"you may not work the queue '{q.title}'", code="queue_forbidden")
    with _db(request).session() as s:
        r = reviewer_for(s, me)
        c = queue_counts(s).get(q.id, {"open": 0, "next_due": None})
        why_not = not_offered(s, r, q.id) if c["open"] else {}
        recent = list(
            s.scalars(
                select(ReviewDecision)
                .where(ReviewDecision.reviewer == me.staff_id, ReviewDecision.queue == q.id)
                .order_by(ReviewDecision.created_at.desc())
                .limit(10)
            )
        )
    return render(
        request,
        "queue.html",
        {"queue": q, "count": c, "empty": empty, "reviewer": r, "recent": recent, "why_not": why_not},
        me=me,
    )


@router.post("/queues/{queue_id}/next", dependencies=CSRF)
def next_task(request: Request, me: Rev, queue_id: str) -> Response:
    return _next(request, me, queue_id)


def _next(request: Request, me: StaffContext, queue_id: str) -> Response:
    with _db(request).session() as s:
        r = reviewer_for(s, me)
        task = claim_next(s, r, queue_id)
        if task is None:
            return redirect(f"{PREFIX}/queues/{queue_id}?empty=1", request)
        return redirect(f"{PREFIX}/tasks/{task.id}", request)


# --- the task page ---------------------------------------------------------------------------------


CONVERSATION_PURPOSE = "review.task"


def _segments(text: str, highlights: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """The message text cut into (piece, behaviour or None): each behaviour's evidence found in
    the text is marked where it stands; evidence not found verbatim (normalised or semantic
    matches) is listed under the message instead."""
    spans: list[tuple[int, int, str]] = []
    lower = text.lower()
    for h in highlights:
        ev = str(h.get("evidence") or "").strip().lower()
        at = lower.find(ev) if ev else -1
        if at >= 0 and not any(a < at + len(ev) and at < b for a, b, _ in spans):
            spans.append((at, at + len(ev), str(h["behaviour"])))
    out: list[tuple[str, str | None]] = []
    pos = 0
    for a, b, behaviour in sorted(spans):
        if a > pos:
            out.append((text[pos:a], None))
        out.append((text[a:b], behaviour))
        pos = b
    if pos < len(text):
        out.append((text[pos:], None))
    return out


#: Messages shown around the one that carried a file under review.
BEFORE_ATTACHMENT, AFTER_ATTACHMENT = 10, 5


def _attachment_message(s: Session, content_ids: list[str]) -> tuple[Any, int] | None:
    """The earliest message that carried one of the task's files (via `message_attachments`), and
    how many messages carried them in all."""
    if not content_ids:
        return None

    rows = list(
        s.execute(
            select(ConversationMessage.id, ConversationMessage.conversation_id, ConversationMessage.turn)
            .join(MessageAttachment, MessageAttachment.message_id == ConversationMessage.id)
            .where(MessageAttachment.content_id.in_(content_ids))
            .order_by(ConversationMessage.sent_at, ConversationMessage.id)
            .limit(50)
        ).all()
    )
    return (rows[0], len({r[0] for r in rows})) if rows else None


def _conversation(s: Session, request: Request, me: StaffContext, task: ReviewTask) -> dict[str, Any] | None:
    """The flagged conversation of a conversation task, or for media sent as a message attachment
    the messages around the one that carried it; each message with the behaviours that fired on
    it (from `haven.classify`, which writes an audit record for every call). The page's task
    access check has already run: whoever may see the task may see its conversation."""

    around: dict[str, Any] = {}
    consented: dict[str, Any] | None = None
    if task.subject_type == "conversation":
        conversation_id = task.subject_id
    elif task.subject_type == "notice_case":
        consented = _consented_conversation(s, task.subject_id)
        if consented is None:
            return None
        if consented.get("unrelated"):
            return {"unrelated": True, **consented}
        conversation_id = consented["conversation_id"]
    elif task.queue == "financial":
        # The conversation Haven flagged between the same accounts (linked when the payment was
        # screened): the one subject view of a financial task.
        if not task.details.get("conversation_id"):
            return None
        conversation_id = str(task.details["conversation_id"])
    else:
        found = _attachment_message(s, list(task.content_ids))
        if found is None:
            return None
        (row_id, conversation_id, turn), carried = found
        around = {
            "around_turn": turn,
            "attachment_row_id": row_id,
            "other_messages": carried - 1,
            "before": BEFORE_ATTACHMENT,
            "after": AFTER_ATTACHMENT,
        }
    try:
        conv = conversation_for_review(
            s,
            conversation_id,
            actor=me.actor.ref,
            purpose=CONVERSATION_PURPOSE,
            source_ip=client_ip(request),
            around_turn=around.get("around_turn"),
            before=BEFORE_ATTACHMENT,
            after=AFTER_ATTACHMENT,
        )
    except NotFound:  # purged: the task can still be read and decided
        return {"missing": True, "conversation_id": conversation_id}
    conv["around"] = around or None
    conv["consented"] = consented
    for m in conv["messages"]:
        m["segments"] = _segments(m["text"] or "", m["highlights"])
        m["behaviour_names"] = sorted({h["behaviour"].replace("_", " ") for h in m["highlights"]})
    bands = {p["account_id"]: p["age_band"] for p in conv["participants"]}
    conv["bands"] = bands
    return conv


def _consented_conversation(s: Session, case_id: str) -> dict[str, Any] | None:
    """The conversation a reporter of this case agreed to attach (`user_report.conversation_consented`,
    hosted report form), the first one if several did. It is shown only when the case's target
    is in it (the reported account a participant, or the reported item sent in one of its
    messages): a reporter cannot make a reviewer read an unrelated chat by typing its id."""
    from haven.classify.models import Conversation
    from haven.core.ledger import events_for
    from haven.enforce.notices.models import NoticeCase

    reports = set(s.scalars(select(UserReport.id).where(UserReport.case_id == case_id)))
    consents = [
        e
        for e in events_for(s, "notice_case", case_id)
        if e.type == "user_report.conversation_consented" and e.data.get("report_id") in reports
    ]
    if not consents:
        return None
    conversation_id = str(consents[0].data["conversation_id"])
    found = {"conversation_id": conversation_id, "report_ids": sorted({str(e.data["report_id"]) for e in consents})}
    others = sorted({str(e.data["conversation_id"]) for e in consents} - {conversation_id})
    found["others"] = others
    case = s.get(NoticeCase, case_id)
    conv = s.get(Conversation, conversation_id)
    if case is None or conv is None:
        return found  # purged or never sent to Haven: conversation_for_review says it is missing
    related = case.target_type == "account" and case.target_id in (conv.participants or [])
    if case.target_type == "content":
        related = (
            s.scalar(
                select(MessageAttachment.message_id)
                .join(ConversationMessage, ConversationMessage.id == MessageAttachment.message_id)
                .where(
                    ConversationMessage.conversation_id == conversation_id,
                    MessageAttachment.content_id == case.target_id,
                )
                .limit(1)
            )
            is not None
        )
    return found if related else {**found, "unrelated": True, "target_type": case.target_type}


def _appeal(s: Session, task: ReviewTask) -> dict[str, Any] | None:
    """What an appeal task is about: the appealed decision (from the task) and the appellant's
    statement in full (from enforcement's appeal)."""
    appeal_id = task.details.get("appeal_id")
    if not appeal_id:
        return None

    row = s.get(Appeal, str(appeal_id))
    return {
        **task.details,
        "appellant": row.appellant if row else None,
        "statement": row.statement if row else "",
        "status": row.status if row else "unknown",
    }


def _reports(s: Session, task: ReviewTask) -> list[Any] | None:
    """The user reports of a report-case task, most urgent first (what the reporters said)."""
    if task.subject_type != "notice_case":
        return None

    rows = list(s.scalars(select(UserReport).where(UserReport.case_id == task.subject_id).limit(200)))
    rows.sort(key=lambda r: (not r.imminent_risk, not r.trusted_flagger, r.received_at))
    return rows


def _strikes(s: Session, account_id: str | None) -> dict[str, Any] | None:
    """The uploader's standing with enforcement: active strike points, decisions that stand,
    and each strike (active, expired or removed by an overturn)."""
    if not account_id:
        return None

    rows = strikes.strikes_of(s, account_id)
    points, standing_violations = strikes.standing(s, account_id)
    t = now()
    views = strikes.views(rows)
    return {
        "points": points,
        "violations": standing_violations,
        "rows": [
            {
                "category": v.category,
                "points": v.points,
                "created_at": v.created_at,
                "expires_at": v.expires_at,
                "state": "removed" if v.removed else ("active" if v.active(t) else "expired"),
            }
            for v in reversed(views)
        ],
        "active": sum(1 for v in views if v.active(t)),
    }


def _bank_names(s: Session, ids: set[str]) -> dict[str, str]:

    if not ids:
        return {}
    return {i: n for i, n in s.execute(select(Bank.id, Bank.name).where(Bank.id.in_(ids))).tuples()}


def _suggested_category(task: ReviewTask) -> str:
    if task.details.get("category") in CATEGORIES:
        return str(task.details["category"])
    if task.queue == "grooming":
        return "grooming"
    if task.queue in ("known_material", "new_material"):
        return "csam"
    return str(task.details.get("category") or "other")


@router.get("/tasks/{task_id}")
def task_page(request: Request, me: Rev, task_id: str, reveal: str | None = None) -> Response:
    db = _db(request)
    with db.session() as s:
        task = get_task(s, task_id)
        r = reviewer_for(s, me)
        check_task_access(r, task)
        held = holds(task, r)
        if held:
            claim(s, task.id, r)  # renew the lease while the person works
        items = list(s.scalars(select(ContentItem).where(ContentItem.id.in_(task.content_ids))))
        items.sort(key=lambda i: task.content_ids.index(i.id))
        matches = list(s.scalars(select(Match).where(Match.content_id.in_(task.content_ids))))
        banks = _bank_names(s, {m.bank_id for m in matches})
        account = s.get(Account, task.uploader) if task.uploader else None
        history = (
            list(
                s.scalars(
                    select(ReviewDecision)
                    .where(ReviewDecision.uploader == task.uploader)
                    .order_by(ReviewDecision.created_at.desc())
                    .limit(20)
                )
            )
            if task.uploader
            else []
        )
        others = (
            list(
                s.scalars(
                    select(ContentItem)
                    .where(ContentItem.uploader == task.uploader, ContentItem.id.notin_(task.content_ids))
                    .order_by(ContentItem.received_at.desc())
                    .limit(10)
                )
            )
            if task.uploader
            else []
        )
        conversation = _conversation(s, request, me, task)
        panel = panel_for(task.queue)  # e.g. finance's money trail for the financial queue
        trail = (
            panel(s, task, actor=me.actor.ref, purpose=CONVERSATION_PURPOSE, source_ip=client_ip(request))
            if panel is not None
            else None
        )
        strikes = _strikes(s, task.uploader)
        reports = _reports(s, task)
        appeal = _appeal(s, task)
        parent = s.get(ReviewDecision, task.parent_decision_id) if task.parent_decision_id else None
        automated = _automated_actions(s, task)
    prefs = wellness.preferences(me.preferences)
    classes = sorted({m.classification for m in matches if m.classification})
    ctx = {
        "task": task,
        "queue": QUEUES[task.queue],
        "held": held,
        "items": items,
        "reveal": reveal,
        "matches": matches,
        "banks": banks,
        "account": account,
        "history": history,
        "others": others,
        "violations": sum(1 for h in history if h.decision == "violation"),
        "automated": automated,
        "conversation": conversation,
        "trail": trail,
        "strikes": strikes,
        "reports": reports,
        "appeal": appeal,
        "parent": parent,
        "prefs": prefs,
        "categories": list(CATEGORIES.values()),
        "classifications": MEDIA_CLASSIFICATIONS,
        "annotations": ANNOTATIONS,
        "suggested_category": _suggested_category(task),
        "suggested_class": classes[0] if len(classes) == 1 else None,
        "can_escalate": task.queue != "escalations",
        "overdue": task.due_at < now(),
    }
    return render(request, "task.html", ctx, me=me)


def _media_item(s: Session, me: StaffContext, task_id: str, content_id: str) -> tuple[ReviewTask, ContentItem]:
    task = get_task(s, task_id)
    r = reviewer_for(s, me)
    check_task_access(r, task)
    if not holds(task, r):
        raise Forbidden("claim this task to see its media", code="not_holder")
    if content_id not in task.content_ids:
        raise NotFound("this file is not part of the task", code="not_found")
    item = s.get(ContentItem, content_id)
    if item is None or not item.quarantine_id:
        raise NotFound("no quarantined file for this item", code="object_not_found")
    return task, item


NO_STORE = {
    "Cache-Control": "no-store, private",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


@router.get("/tasks/{task_id}/media/{content_id}/preview")
def media_preview(request: Request, me: Rev, task_id: str, content_id: str) -> Response:
    """A blurred (and by default greyscale) rendering made on the server, so the unblurred
    file never reaches the browser until the person reveals it."""
    from PIL import Image, ImageFilter, ImageOps

    settings = request.app.state.settings
    prefs = wellness.preferences(me.preferences)
    with _db(request).session() as s:
        _, item = _media_item(s, me, task_id, content_id)
        if item.media_kind != "image":
            raise NotFound("no preview for this kind of media", code="no_preview")
        assert item.quarantine_id
        data = quarantine.read(
            s,
            settings,
            item.quarantine_id,
            actor=me.actor.ref,
            purpose=PREVIEW_PURPOSE,
            source_ip=client_ip(request),
            action=quarantine.PREVIEW,
        )
    opened = Image.open(io.BytesIO(data))
    opened.draft("RGB", (480, 480))
    img: Image.Image = ImageOps.exif_transpose(opened).convert("RGB")
    img.thumbnail((480, 480))
    img = img.filter(ImageFilter.GaussianBlur(prefs["blur"]))
    if prefs["greyscale"]:
        img = img.convert("L")
    out = io.BytesIO()
    img.save(out, "JPEG", quality=70)
    return Response(out.getvalue(), media_type="image/jpeg", headers=NO_STORE)


@router.get("/tasks/{task_id}/media/{content_id}/file")
def media_file(request: Request, me: Rev, task_id: str, content_id: str) -> Response:
    """The file itself, for a deliberate reveal: each response is one audit record `media.view`
    with purpose `review.reveal` (who, when, which file) — the record `fileViewedByEsp` uses.

    The file is served as the type sniffed from its bytes (the service's `content_type` is only
    its claim), and the record is written after the response was handed to the server: a reveal
    that never reached the reviewer is not a view."""
    settings = request.app.state.settings
    with _db(request).session() as s:
        _task, item = _media_item(s, me, task_id, content_id)
        assert item.quarantine_id
        row, data = quarantine.open_object(s, settings, item.quarantine_id)
    sniffed = sniff_media_kind(data)
    ctype = sniffed[1] if sniffed else "application/octet-stream"
    actor, ip, object_id = me.actor.ref, client_ip(request), row.id

    def record_view() -> None:
        try:
            with _db(request).session() as s:
                quarantine.record_access(
                    s, object_id, content_id, actor=actor, purpose=REVEAL_PURPOSE, source_ip=ip, action=quarantine.VIEW
                )
        except Exception:
            log.exception("the media.view record of a sent reveal could not be written", extra={"object": object_id})
            raise

    return Response(data, media_type=ctype, headers=NO_STORE, background=BackgroundTask(record_view))


@router.get("/tasks/{task_id}/media/{content_id}/exif")
def media_exif(request: Request, me: Rev, task_id: str, content_id: str) -> Response:
    """The file's metadata (EXIF) on a deliberate click, without the picture: written to the
    audit log as `media.exif_view`, which is what makes `exifViewedByEsp` true in a report."""
    settings = request.app.state.settings
    with _db(request).session() as s:
        task, item = _media_item(s, me, task_id, content_id)
        rows = read_exif(s, settings, item.id, actor=me.actor.ref, source_ip=client_ip(request))
    ctx = {"task": task, "item_id": content_id, "rows": rows}
    if request.headers.get("hx-request"):
        return render(request, "exif_table.html", ctx, me=me)
    return render(request, "exif.html", ctx, me=me)


def _automated_actions(s: Session, task: ReviewTask) -> list[dict[str, Any]]:
    """What a rule already did about this task's media before anyone looked (zero tolerance for
    known material terminates at once): the reviewer's decision confirms or reverses it."""
    from haven.enforce.models import EnforcementAction, EnforcementDecision

    if not task.content_ids:
        return []
    out = []
    rows = s.scalars(
        select(EnforcementDecision).where(
            EnforcementDecision.source == "policy",
            EnforcementDecision.subject_type == "content",
            EnforcementDecision.subject_id.in_(task.content_ids),
            EnforcementDecision.overturned_at.is_(None),
        )
    )
    for d in rows:
        actions = [
            a.action_type
            for a in s.scalars(select(EnforcementAction).where(EnforcementAction.decision_id == d.id))
            if a.reversed_at is None
        ]
        if actions:
            out.append({"rule": d.rule or "a rule", "actions": actions, "at": d.created_at})
    return out


@router.post("/tasks/{task_id}/decide", dependencies=CSRF)
def decide_page(
    request: Request,
    me: Rev,
    task_id: str,
    decision: Annotated[str, Form(max_length=20)],
    category: Annotated[str, Form(max_length=40)] = "",
    classification: Annotated[str, Form(max_length=20)] = "",
    annotations: Annotated[list[str], Form()] = [],  # noqa: B006  (FastAPI copies defaults)
    note: Annotated[str, Form(max_length=10_000)] = "",
    then: Annotated[str, Form(max_length=10)] = "next",
) -> Response:
    settings = request.app.state.settings
    with _db(request).session() as s:
        task = get_task(s, task_id)
        r = reviewer_for(s, me)
        made = decide(
            s,
            settings,
            task,
            r,
            decision=decision,
            category=category if decision == "violation" else None,
            classification=classification if decision == "violation" else None,
            annotations=annotations if decision == "violation" else [],
            note=note,
        )
        queue = task.queue
        decided = made.id
    if then == "next":
        try:
            return _with_decided(_next(request, me, queue), decided)
        except BreakNeeded:
            return redirect(f"{PREFIX}/break?decided={decided}", request)
        except Forbidden:
            return redirect(f"{PREFIX}/?decided={decided}", request)
    return redirect(f"{PREFIX}/queues/{queue}?decided={decided}", request)


def _with_decided(resp: Response, decision_id: str) -> Response:
    """The page after a decision links to what followed it."""
    for header in ("location", "hx-redirect"):
        target = resp.headers.get(header)
        if target:
            resp.headers[header] = f"{target}{'&' if '?' in target else '?'}decided={decision_id}"
    return resp


@router.get("/decisions/{decision_id}")
def decision_page(request: Request, me: Me, decision_id: str) -> Response:
    """What a decision led to: the report case, banked hashes, enforcement, notices, webhooks and
    tasks. For the person who made it and for seniors and admins."""
    with _db(request).session() as s:
        row = s.get(ReviewDecision, decision_id)
        if row is None:
            raise NotFound(f"no decision '{decision_id}'", code="decision_not_found")
        if row.reviewer != me.staff_id and not me.has_any("senior", "admin"):
            raise Forbidden(
                "only the reviewer who made it, seniors and admins see a decision", code="decision_forbidden"
            )
        follow = what_followed(s, row, PREFIX)
    return render(request, "decision.html", {"decision": row, "followups": follow}, me=me)


@router.post("/tasks/{task_id}/release", dependencies=CSRF)
def release_page(request: Request, me: Rev, task_id: str) -> Response:
    with _db(request).session() as s:
        task = get_task(s, task_id)
        r = reviewer_for(s, me)
        check_task_access(r, task)
        release(s, task, r)
        queue = task.queue
    return redirect(f"{PREFIX}/queues/{queue}", request)


# --- wellness: exposure and breaks ------------------------------------------------------------------


@router.get("/exposure")
def exposure_page(request: Request, me: Me) -> Response:
    with _db(request).session() as s:
        exp, prefs, _ = budget_state(s, me)
    return render(request, "exposure.html", {"exp": exp, "prefs": prefs}, me=me)


@router.get("/break")
def break_page(request: Request, me: Me) -> Response:
    with _db(request).session() as s:
        _, _, over = budget_state(s, me)
        row = s.get(StaffSession, me.session_id)
        taken = row.break_taken_at if row else None
    return render(request, "break.html", {"over": over, "taken": taken}, me=me)


@router.post("/break", dependencies=CSRF)
def take_break(request: Request, me: Me) -> Response:
    with _db(request).session() as s:
        row = s.get(StaffSession, me.session_id)
        if row is None:
            raise ConsoleError("no session", code="not_found", status_code=404)
        row.break_taken_at = now()
        audit(s, actor=me.actor.ref, action="staff.break", object_type="staff", object_id=me.staff_id)
    return redirect(f"{PREFIX}/break", request)
