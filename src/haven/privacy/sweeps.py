"""Retention sweeps: one scheduled job per data class (`privacy.sweep`, payload `{"class": ...}`).

Each sweep deletes or pseudonymises what its class's period has passed, skips what a legal hold,
a preserved report, an open report case or an open law-enforcement request protects
(`haven.privacy.protect`), and logs and audits how many rows it changed (never what they were).
A sweep re-queues itself for the next day (dedupe key per class and day), so one `haven privacy
schedule` (or the first sweep run) keeps every class running; all sweeps are idempotent.

Cleared held media do not wait for a sweep: a reviewer's `no_violation` deletes the quarantined
file at the decision (`on_review_decision`); the `media.cleared` sweep catches any the subscriber
missed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from haven.banks.models import Match
from haven.classify.models import Conversation, ConversationMessage, MessageAttachment
from haven.core.actors import SYSTEM
from haven.core.clock import now
from haven.core.db import Database
from haven.core.jobs import enqueue, handler
from haven.core.ledger import audit, subscribe
from haven.core.models import AuditRecord, Event, Job
from haven.core.settings import Settings, get_settings
from haven.enforce.notices.models import UserReport
from haven.evidence.models import EvidenceObject
from haven.privacy.classes import CLASSES, days
from haven.privacy.protect import Protected, protected
from haven.screening.models import ContentItem, QuarantineObject, VideoSignal

log = logging.getLogger("haven.privacy")

JOB = "privacy.sweep"
PSEUDONYM = "pseud:"
BATCH = 500


def pseudonym(settings: Settings, value: str) -> str:
    """A stable keyed pseudonym: the same value gives the same pseudonym (counts per subject still
    add up) but it cannot be reversed or recomputed without the key."""
    if value.startswith(PSEUDONYM):
        return value
    key = settings.derived_key(b"haven privacy pseudonyms v1")
    return PSEUDONYM + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]


# -- the sweeps ------------------------------------------------------------------------------


def sweep_unflagged_messages(session: Session, settings: Settings, cutoff: datetime, keep: Protected) -> int:
    """Messages of conversations never flagged, idle since before the cutoff, are deleted; the
    conversation keeps its numbers (turns, scores) and loses the evidence passages of its state."""
    convs = session.scalars(
        select(Conversation).where(
            Conversation.flagged_at.is_(None),
            Conversation.preserved.is_(False),
            Conversation.updated_at < cutoff,
        )
    ).all()
    n = 0
    for conv in convs:
        if any(p in keep.accounts for p in conv.participants or []):
            continue
        ids = list(
            session.scalars(select(ConversationMessage.id).where(ConversationMessage.conversation_id == conv.id))
        )
        if ids:
            session.execute(delete(MessageAttachment).where(MessageAttachment.message_id.in_(ids)))
            session.execute(delete(ConversationMessage).where(ConversationMessage.id.in_(ids)))
            n += len(ids)
        stripped = _numbers_only(conv.state or {})
        if stripped != conv.state:
            # Keep updated_at: stripping is not activity in the conversation.
            session.execute(
                update(Conversation)
                .where(Conversation.id == conv.id)
                .values(state=stripped, updated_at=conv.updated_at)
            )
    return n


def _numbers_only(value: Any) -> Any:
    """The detector state without text: evidence passages, message ids and the message model's
    (sealed) context go, numbers stay."""
    if isinstance(value, dict):
        return {k: _numbers_only(v) for k, v in value.items() if k not in ("evidence", "message_id", "text", "recent")}
    if isinstance(value, list):
        return [_numbers_only(v) for v in value]
    return value


def _flagged_content(session: Session) -> set[str]:
    """Content attached to messages of flagged or preserved conversations (kept with them)."""
    return set(
        session.scalars(
            select(MessageAttachment.content_id)
            .join(ConversationMessage, ConversationMessage.id == MessageAttachment.message_id)
            .join(Conversation, Conversation.id == ConversationMessage.conversation_id)
            .where((Conversation.flagged_at.is_not(None)) | Conversation.preserved.is_(True))
        )
    )


def _allowed_older_than(session: Session, cutoff: datetime, keep: Protected, extra: Any = None) -> list[ContentItem]:
    q = select(ContentItem).where(ContentItem.verdict == "allow", ContentItem.received_at < cutoff)
    if extra is not None:
        q = q.where(extra)
    kept = _flagged_content(session)
    return [
        c
        for c in session.scalars(q)
        if c.id not in keep.content and c.id not in kept and (c.uploader or "") not in keep.accounts
    ]


def sweep_content_uploader(session: Session, settings: Settings, cutoff: datetime, keep: Protected) -> int:
    """Allowed content: who uploaded it, to whom, from where, and the service's item id go."""
    rows = _allowed_older_than(session, cutoff, keep, ContentItem.uploader.is_not(None) | ContentItem.ip.is_not(None))
    for c in rows:
        c.uploader = None
        c.recipients = []
        c.ip = None
        c.external_id = None
    return len(rows)


def sweep_content_allowed(session: Session, settings: Settings, cutoff: datetime, keep: Protected) -> int:
    """Allowed content records past retroaction are deleted, with their video hashes and match rows."""
    ids = [c.id for c in _allowed_older_than(session, cutoff, keep)]
    n = 0
    for i in range(0, len(ids), BATCH):
        chunk = ids[i : i + BATCH]
        session.execute(delete(VideoSignal).where(VideoSignal.content_id.in_(chunk)))
        # The match log keeps its rows (counts per bank and entry), unlinked from the upload.
        session.execute(update(Match).where(Match.content_id.in_(chunk)).values(content_id=None))
        session.execute(delete(ContentItem).where(ContentItem.id.in_(chunk)))
        n += len(chunk)
    return n


def delete_quarantined(session: Session, content_id: str) -> int:
    """Delete the quarantined bytes of one content item (file and row marked deleted)."""
    n = 0
    for q in session.scalars(
        select(QuarantineObject).where(QuarantineObject.content_id == content_id, QuarantineObject.deleted_at.is_(None))
    ):
        Path(q.path).unlink(missing_ok=True)
        q.deleted_at = now()
        n += 1
    return n


def sweep_cleared_media(session: Session, settings: Settings, cutoff: datetime, keep: Protected) -> int:
    """Held media whose last human decision is no violation (and no case, hold or evidence keeps)."""
    from haven.review.models import ReviewDecision

    live = session.scalars(select(QuarantineObject.content_id).where(QuarantineObject.deleted_at.is_(None))).all()
    n = 0
    for content_id in set(live):
        if content_id in keep.content:
            continue
        last = session.scalars(
            select(ReviewDecision.decision)
            .where(ReviewDecision.subject_type == "content", ReviewDecision.subject_id == content_id)
            .where(ReviewDecision.decision.in_(("violation", "no_violation")))
            .order_by(ReviewDecision.created_at.desc())
            .limit(1)
        ).first()
        if last == "no_violation" and not _cleared_protected(session, content_id):
            n += delete_quarantined(session, content_id)
    return n


def _cleared_protected(session: Session, content_id: str) -> bool:
    """Evidence taken from this content, or an open case naming it, keeps the file."""
    from haven.cybertip.models import ReportCase

    if session.scalar(
        select(EvidenceObject.id)
        .where(EvidenceObject.content_id == content_id, EvidenceObject.destroyed_at.is_(None))
        .limit(1)
    ):
        return True
    for ids in session.scalars(select(ReportCase.content_ids).where(ReportCase.finished_at.is_(None))):
        if content_id in (ids or []):
            return True
    return False


def sweep_match_log(session: Session, settings: Settings, cutoff: datetime, keep: Protected) -> int:
    """Old match rows are unlinked from the upload (the content id is the only thing in a match
    that leads to a person, and it is a foreign key, so it is cleared rather than replaced); bank,
    entry, classification and time stay for counts."""
    rows = session.scalars(select(Match).where(Match.created_at < cutoff, Match.content_id.is_not(None))).all()
    n = 0
    for m in rows:
        if m.content_id is None or m.content_id in keep.content:
            continue
        m.content_id = None
        n += 1
    return n


#: Payload keys that name a person or hold free text; pseudonymised (ids) or dropped (text).
ID_KEYS = frozenset(
    {
        "account_id",
        "uploader",
        "sender",
        "recipient",
        "recipients",
        "participants",
        "reporter_id",
        "appellant",
        "guardian_id",
        "teen_id",
        "other_id",
        "targets",
        "victims",
        "blocker",
        "blocked",
        "puid",
    }
)
TEXT_KEYS = frozenset(
    {
        "text",
        "message",
        "statement",
        "explanation",
        "reporter_name",
        "reporter_email",
        "note",
        "reason_text",
        "incident_description",
        "ip",
        "email",
    }
)


def pseudonymise_payload(settings: Settings, data: Any) -> Any:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            if k in TEXT_KEYS and v:
                out[k] = "[removed]"
            elif k in ID_KEYS:
                out[k] = _pseud_ids(settings, v)
            else:
                out[k] = pseudonymise_payload(settings, v)
        return out
    if isinstance(data, list):
        return [pseudonymise_payload(settings, v) for v in data]
    return data


def _pseud_ids(settings: Settings, v: Any) -> Any:
    if isinstance(v, str):
        return pseudonym(settings, v)
    if isinstance(v, list):
        return [_pseud_ids(settings, x) for x in v]
    if isinstance(v, dict):
        return {k: _pseud_ids(settings, x) if k in ("id", "account_id") else x for k, x in v.items()}
    return v


PERSON_SUBJECTS = ("account", "conversation", "user_report")


def sweep_ledger(session: Session, settings: Settings, cutoff: datetime, keep: Protected) -> int:
    """Old events: account ids pseudonymised, free text removed; type, kind, time kept (counts).
    An event about an account or content a hold or case protects is kept as it is."""
    rows = session.scalars(select(Event).where(Event.created_at < cutoff, ~Event.actor.like("pseudonymised%"))).all()
    n = 0
    for e in rows:
        if e.subject_id in keep.accounts or e.subject_id in keep.content:
            continue
        ids = {str(v) for k, v in (e.data or {}).items() if k in ID_KEYS and isinstance(v, str)}
        if ids & set(keep.accounts):
            continue
        pseudonymise_event(settings, e)
        n += 1
    return n


def pseudonymise_event(settings: Settings, e: Event) -> None:
    """Account ids in the subject and payload become pseudonyms, free text goes, the actor keeps
    only its kind: type, subject kind and time stay for counts (the sweep's and an erasure's rule)."""
    e.data = pseudonymise_payload(settings, e.data or {})
    if e.subject_type in PERSON_SUBJECTS:
        e.subject_id = pseudonym(settings, e.subject_id)[:64]
    e.actor = "pseudonymised:" + ("staff" if e.actor.startswith("staff:") else e.actor.split(":")[0])


def sweep_report_contacts(session: Session, settings: Settings, cutoff: datetime, keep: Protected) -> int:
    rows = session.scalars(
        select(UserReport).where(
            UserReport.resolved_at.is_not(None),
            UserReport.resolved_at < cutoff,
            UserReport.reporter_name.is_not(None) | UserReport.reporter_email.is_not(None),
        )
    ).all()
    for r in rows:
        r.reporter_name = None
        r.reporter_email = None
        if r.reporter_id:
            r.reporter_id = pseudonym(settings, r.reporter_id)
    return len(rows)


def sweep_orphan_files(session: Session, settings: Settings, cutoff: datetime, keep: Protected) -> int:
    """Sealed files under var/quarantine and the vault with no row, older than the cutoff."""
    n = 0
    roots = [(settings.var_dir / "quarantine", QuarantineObject.id), (_vault_root(settings), EvidenceObject.id)]
    for root, id_column in roots:
        if root is None or not root.is_dir():
            continue
        files = [p for p in root.iterdir() if p.suffix in (".bin", ".tmp") and p.stat().st_mtime < cutoff.timestamp()]
        if not files:
            continue
        known = set(session.scalars(select(id_column).where(id_column.in_([p.stem for p in files]))))
        for p in files:
            if p.stem not in known or p.suffix == ".tmp":
                p.unlink(missing_ok=True)
                n += 1
    return n


def _vault_root(settings: Settings) -> Path | None:
    try:
        from haven.evidence.vault import Vault

        return Vault.from_settings(settings).root
    except Exception:  # the vault may be unconfigured in a deployment without reporting
        log.warning("evidence vault not configured: its orphaned files are not swept")
        return None


def sweep_evidence(session: Session, settings: Settings, cutoff: datetime, keep: Protected) -> int:
    from haven.evidence.vault import Vault

    return len(Vault.from_settings(settings).purge(session) or [])


def sweep_contacts(session: Session, settings: Settings, cutoff: datetime, keep: Protected) -> int:
    """Who-messaged-whom rows idle since the cutoff (the fan-out and first-contact signals look
    back far less than a year)."""
    from haven.accounts.models import Contact

    n = 0
    for c in session.scalars(select(Contact).where(Contact.last_at < cutoff)):
        if c.sender in keep.accounts or c.recipient in keep.accounts:
            continue
        session.delete(c)
        n += 1
    return n


def sweep_jobs(session: Session, settings: Settings, cutoff: datetime, keep: Protected) -> int:
    """Finished jobs (their payloads name accounts); a failed (dead) job is kept as long, for the
    operator to see."""
    ids = list(session.scalars(select(Job.id).where(Job.status.in_(("done", "dead")), Job.finished_at < cutoff)))
    for i in range(0, len(ids), BATCH):
        session.execute(delete(Job).where(Job.id.in_(ids[i : i + BATCH])))
    return len(ids)


def sweep_webhooks(session: Session, settings: Settings, cutoff: datetime, keep: Protected) -> int:
    """Delivered and dead webhooks created before the cutoff (their bodies name accounts and
    decisions); a dead one can be replayed within the period."""
    from haven.enforce.models import Delivery

    ids = list(
        session.scalars(
            select(Delivery.id).where(Delivery.status.in_(("delivered", "dead")), Delivery.created_at < cutoff)
        )
    )
    for i in range(0, len(ids), BATCH):
        session.execute(delete(Delivery).where(Delivery.id.in_(ids[i : i + BATCH])))
    return len(ids)


def sweep_staff_sessions(session: Session, settings: Settings, cutoff: datetime, keep: Protected) -> int:
    """Staff sessions (IP, browser) ended before the cutoff."""
    from haven.staff.models import StaffSession

    rows = session.scalars(select(StaffSession).where(StaffSession.expires_at < cutoff)).all()
    for r in rows:
        session.delete(r)
    return len(rows)


def sweep_youth_activity(session: Session, settings: Settings, cutoff: datetime, keep: Protected) -> int:
    """Minors' activity metadata older than the cutoff (guardian summaries look back a week)."""
    from haven.youth.models import Activity

    n = 0
    for r in session.scalars(select(Activity).where(Activity.at < cutoff)):
        if r.account_id in keep.accounts:
            continue
        session.delete(r)
        n += 1
    return n


def sweep_youth_signals(session: Session, settings: Settings, cutoff: datetime, keep: Protected) -> int:
    """Expired age signals, by youth's own rule and period (`assurance.retention_days`); protected
    accounts keep theirs."""
    from haven.youth.service import purge_expired

    return purge_expired(session, keep=keep.accounts)


def sweep_audit(session: Session, settings: Settings, cutoff: datetime, keep: Protected) -> int:
    """Old audit records: the IP goes and the actor is pseudonymised (action, object, purpose and
    time stay: who-accessed-what counts survive). Records about a protected account stay whole."""
    rows = session.scalars(
        select(AuditRecord).where(AuditRecord.created_at < cutoff, ~AuditRecord.actor.like(f"{PSEUDONYM}%"))
    ).all()
    n = 0
    for r in rows:
        if r.object_id in keep.accounts or r.object_id in keep.content:
            continue
        kind = r.actor.split(":", 1)[0]
        r.actor = f"{PSEUDONYM}{kind}:{pseudonym(settings, r.actor)[len(PSEUDONYM) :]}"[:80]
        r.source_ip = None
        n += 1
    return n


SWEEPS: dict[str, Callable[[Session, Settings, datetime, Protected], int]] = {
    "messages.unflagged": sweep_unflagged_messages,
    "content.uploader": sweep_content_uploader,
    "content.allowed": sweep_content_allowed,
    "media.cleared": sweep_cleared_media,
    "matchlog": sweep_match_log,
    "ledger.payloads": sweep_ledger,
    "reports.contact": sweep_report_contacts,
    "files.orphans": sweep_orphan_files,
    "evidence": sweep_evidence,
    "contacts": sweep_contacts,
    "jobs": sweep_jobs,
    "webhooks": sweep_webhooks,
    "staff.sessions": sweep_staff_sessions,
    "youth.activity": sweep_youth_activity,
    "youth.signals": sweep_youth_signals,
    "audit": sweep_audit,
}
#: Classes enforced by this module (others name their enforcer, or say "not built yet").
assert set(SWEEPS) <= set(CLASSES)


def run_sweep(db: Database, name: str, settings: Settings | None = None) -> int:
    """Run one class's sweep now; returns how many rows or files it changed (also logged and
    audited as a count)."""
    settings = settings or get_settings()
    cutoff = now() - timedelta(days=days(settings, name))
    with db.session() as s:
        keep = protected(s)
        n = SWEEPS[name](s, settings, cutoff, keep)
        audit(
            s,
            actor=SYSTEM.ref,
            action="privacy.sweep",
            object_type="data_class",
            object_id=name,
            purpose="retention",
            details={"count": n, "period_days": days(settings, name)},
        )
    log.info("retention sweep", extra={"data_class": name, "count": n})
    return n


def schedule(db: Database, *, delay_seconds: float = 0.0) -> int:
    """Queue the next sweep of every class (one per class per day; a no-op when queued)."""
    day = (now() + timedelta(seconds=delay_seconds)).date().isoformat()
    queued = 0
    with db.session() as s:
        for name in SWEEPS:
            if enqueue(s, JOB, {"class": name}, dedupe_key=f"{JOB}:{name}:{day}", delay=delay_seconds):
                queued += 1
    return queued


@handler(JOB)
def sweep_job(db: Database, job: Job) -> None:
    name = str(job.payload.get("class"))
    if name not in SWEEPS:
        log.warning("unknown data class %s", name)
        return
    run_sweep(db, name)
    with db.session() as s:
        day = (now() + timedelta(days=1)).date().isoformat()
        enqueue(s, JOB, {"class": name}, dedupe_key=f"{JOB}:{name}:{day}", delay=86400)


@subscribe("review.decision", name="privacy-cleared-media")
def on_review_decision(session: Session, event: Event) -> None:
    """A reviewer cleared held media as no violation: its quarantined bytes go now, unless
    evidence or an open case keeps them."""
    data = event.data or {}
    if data.get("decision") != "no_violation":
        return
    keep = protected(session)
    for content_id in data.get("content_ids") or []:
        if content_id in keep.content or _cleared_protected(session, content_id):
            continue
        n = delete_quarantined(session, content_id)
        if n:
            audit(
                session,
                actor=SYSTEM.ref,
                action="privacy.media_deleted",
                object_type="content",
                object_id=content_id,
                purpose="retention",
                details={"count": n, "decision_id": data.get("decision_id")},
            )
