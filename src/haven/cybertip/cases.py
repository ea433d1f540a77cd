"""Report cases: opened from confirmed review decisions, completed by legal staff, turned into
CyberTipline XML, and queued for the worker.

`fileViewedByEsp` is a statement of fact that courts rely on (United States v. Wilson, 2021): it
is true only when the audit log holds a recorded view of that exact file by a person
(`media.view` by a `staff:` actor on the item's quarantine object, or on its evidence object).
Nothing else sets it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from haven.accounts.models import MINOR_BANDS as ACCOUNT_MINOR_BANDS
from haven.accounts.models import Account
from haven.classify.models import Conversation, ConversationMessage
from haven.core.actors import Actor
from haven.core.clock import new_id, now
from haven.core.errors import Conflict, Forbidden, Invalid, NotFound
from haven.core.jobs import enqueue
from haven.core.ledger import audit, record_event
from haven.core.models import AuditRecord, Event
from haven.core.settings import Settings, get_settings
from haven.cybertip.config import CybertipSettings
from haven.cybertip.mode import settings_for_case
from haven.cybertip.models import ReportCase, ReportFile, Submission
from haven.cybertip.xml import (
    EVENT_NAMES,
    FILE_ANNOTATIONS,
    INDUSTRY_CLASSIFICATIONS,
    REPORT_ANNOTATIONS,
    FileData,
    IpEvent,
    PersonInfo,
    ReportData,
    active_xsd_path,
    build_file_details,
    build_report,
    validate,
    validation_errors,
)
from haven.evidence.models import EvidenceObject
from haven.evidence.vault import Vault
from haven.policy.categories import CATEGORIES
from haven.screening import quarantine
from haven.screening.models import ContentItem, QuarantineObject
from haven.signals.image import sniff_media_kind

#: Roles that may see and draft report cases; only `legal` may submit or cancel.
DRAFT_ROLES = ("legal", "child_safety_reviewer")
SUBMIT_ROLES = ("legal",)
EDITABLE = (
    "content_ids",
    "incident_description",
    "escalation_reason",
    "annotations",
    "reported_account",
    "recipients",
    "victims",
    "classifications",
    "file_annotations",
    "prior_reports",
    "additional_info",
    "incident_at",
)
CONVERSATION_COLUMNS = ("sent_at", "sender", "recipient", "text")
#: A recipient whose age band means a minor is proposed as the victim (staff can change it and
#: fill in the age). One definition for all capabilities: `haven.screening.models.MINOR_BANDS`.
MINOR_BANDS = ACCOUNT_MINOR_BANDS


def require(actor: Actor, roles: tuple[str, ...], what: str) -> None:
    if actor.kind == "system" or actor.has_any(*roles):
        return
    raise Forbidden(
        f"{what} needs one of the roles: {', '.join(roles)}", code="role_required", details={"roles": list(roles)}
    )


def get_case(session: Session, case_id: str, actor: Actor) -> ReportCase:
    require(actor, DRAFT_ROLES, "reading report cases")
    case = session.get(ReportCase, case_id)
    if case is None:
        raise NotFound(f"no report case '{case_id}'", code="report_not_found")
    return case


def list_cases(session: Session, actor: Actor, status: str | None = None) -> list[ReportCase]:
    require(actor, DRAFT_ROLES, "reading report cases")
    q = select(ReportCase).order_by(ReportCase.created_at.desc())
    if status:
        q = q.where(ReportCase.status == status)
    return list(session.scalars(q))


# -- opening a case from review ------------------------------------------------------------


def open_from_decision(session: Session, settings: Settings, event: Event) -> ReportCase | None:
    """Open a draft case for a confirmed, human-made child-safety violation (idempotent per
    decision), and preserve its material in the evidence vault at once."""
    data = event.data or {}
    overturns = data.get("overturns")
    if overturns:
        _overturn(session, str(overturns), event)
    category = CATEGORIES.get(str(data.get("category") or ""))
    if data.get("decision") != "violation" or category is None or category.ncmec_incident_type is None:
        return None
    if data.get("automated"):
        return None  # "actual knowledge" here means a person confirmed it
    decision_id = str(data.get("decision_id") or event.id)
    existing = session.scalar(select(ReportCase).where(ReportCase.decision_id == decision_id))
    if existing is not None:
        return existing
    content_ids = [str(c) for c in data.get("content_ids") or []]
    if event.subject_type == "content" and event.subject_id not in content_ids:
        content_ids.insert(0, event.subject_id)
    items = _items(session, content_ids)
    uploader = data.get("uploader") or next((i.uploader for i in items if i.uploader), None)
    if uploader is None and event.subject_type == "account":
        uploader = event.subject_id
    conv = session.get(Conversation, event.subject_id) if event.subject_type == "conversation" else None
    messages = _conversation_messages(session, conv.id) if conv is not None else []
    flagged = [m for m in messages if m.behaviours]
    if uploader is None and flagged:
        uploader = flagged[0].sender
    recipients: list[str] = []
    for i in items:
        for r in i.recipients or []:
            if r not in recipients and r != uploader:
                recipients.append(r)
    for p in conv.participants if conv is not None else []:
        # A conversation case: the intended recipients are the sender's counterparts in it.
        if p not in recipients and p != uploader:
            recipients.append(p)
    times = [i.created_at or i.received_at for i in items]
    if messages:
        # The incident began with the first message on which a grooming or sextortion
        # behaviour fired (else the first message of the conversation).
        times.append((flagged or messages)[0].sent_at)
    incident_at = min(times) if times else event.created_at or now()
    annotations = list(category.ncmec_annotations)
    file_flags: list[str] = []
    for a in data.get("annotations") or []:
        if a in REPORT_ANNOTATIONS and a not in annotations:
            annotations.append(a)
        elif a in FILE_ANNOTATIONS:
            file_flags.append(a)
    classification = data.get("classification")
    media = [i for i in items if i.media_kind != "text"]
    minors = (
        {
            a.id
            for a in session.scalars(
                select(Account).where(Account.id.in_(recipients), Account.age_band.in_(MINOR_BANDS))
            )
        }
        if recipients
        else set()
    )
    draft = _open_draft_for(session, uploader, category.ncmec_incident_type) if uploader else None
    if draft is not None:
        # One incident, one report: a second confirmed decision about the same account (its
        # conversation after the user report about it, say) adds to the draft still open.
        return _merge_into(
            session,
            settings,
            draft,
            decision_id=decision_id,
            media=[i for i in items if i.media_kind != "text"],
            recipients=recipients,
            minors=minors,
            incident_at=incident_at,
            annotations=annotations,
            classification=classification,
            file_flags=file_flags,
            conversation=(conv.id, messages) if conv is not None and messages else None,
        )
    case = ReportCase(
        id=new_id(),
        status="draft",
        category=category.id,
        incident_type=category.ncmec_incident_type,
        incident_at=incident_at,
        annotations=annotations,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        decision_id=decision_id,
        reported_account={"esp_identifier": uploader} if uploader else {},
        recipients=[{"esp_identifier": r} for r in recipients],
        victims=[{"esp_identifier": r} for r in recipients if r in minors],
        content_ids=[i.id for i in media],
        classifications={i.id: classification for i in media} if classification in INDUSTRY_CLASSIFICATIONS else {},
        file_annotations={i.id: file_flags for i in media} if file_flags else {},
        conversation=[],
        first_knowledge_at=event.created_at or now(),
        created_by=event.actor,
        created_at=now(),
        updated_at=now(),
    )
    session.add(case)
    session.flush()
    vault = Vault.from_settings(settings)
    for item in media:
        preserve_item(session, settings, vault, case, item)
    if conv is not None and messages:
        attach_conversation_messages(session, vault, case, conv.id, messages)
    record_event(
        session,
        "report.case_opened",
        subject_type="report_case",
        subject_id=case.id,
        actor="system:haven",
        data={"decision_id": decision_id, "category": category.id, "content_ids": case.content_ids},
    )
    return case


def _open_draft_for(session: Session, account: str, incident_type: str) -> ReportCase | None:
    """The draft case (not yet queued) about `account` for the same kind of incident, if any."""
    for case in session.scalars(
        select(ReportCase)
        .where(ReportCase.status == "draft", ReportCase.incident_type == incident_type)
        .order_by(ReportCase.created_at)
    ):
        if (case.reported_account or {}).get("esp_identifier") == account:
            return case
    return None


def _merge_into(
    session: Session,
    settings: Settings,
    case: ReportCase,
    *,
    decision_id: str,
    media: list[ContentItem],
    recipients: list[str],
    minors: set[str],
    incident_at: datetime,
    annotations: list[str],
    classification: str | None,
    file_flags: list[str],
    conversation: tuple[str, list[ConversationMessage]] | None,
) -> ReportCase:
    """Add a further decision's material to an open draft: its media (preserved), recipients and
    victims, annotations, the earlier incident time and its conversation (appended to the CSV)."""
    changed: list[str] = []
    ids = list(case.content_ids or [])
    new_media = [i for i in media if i.id not in ids]
    if new_media:
        case.content_ids = ids + [i.id for i in new_media]
        if classification in INDUSTRY_CLASSIFICATIONS:
            case.classifications = {**(case.classifications or {}), **{i.id: classification for i in new_media}}
        if file_flags:
            case.file_annotations = {**(case.file_annotations or {}), **{i.id: file_flags for i in new_media}}
        changed.append("content_ids")
    known = {r.get("esp_identifier") for r in case.recipients or []}
    added = [r for r in recipients if r not in known]
    if added:
        case.recipients = [*(case.recipients or []), *({"esp_identifier": r} for r in added)]
        changed.append("recipients")
    victims = {v.get("esp_identifier") for v in case.victims or []}
    new_victims = [r for r in recipients if r in minors and r not in victims]
    if new_victims:
        case.victims = [*(case.victims or []), *({"esp_identifier": r} for r in new_victims)]
        changed.append("victims")
    extra = [a for a in annotations if a not in (case.annotations or [])]
    if extra:
        case.annotations = [*(case.annotations or []), *extra]
        changed.append("annotations")
    if incident_at < case.incident_at.replace(tzinfo=incident_at.tzinfo):
        case.incident_at = incident_at
        changed.append("incident_at")
    vault = Vault.from_settings(settings)
    for item in new_media:
        preserve_item(session, settings, vault, case, item)
    if conversation is not None:
        conv_id, messages = conversation
        before = list(case.conversation or [])
        rows = conversation_rows(messages)
        if any(r not in before for r in rows):
            attach_conversation_messages(session, vault, case, conv_id, messages, keep=before)
            changed.append("conversation")
    case.updated_at = now()
    record_event(
        session,
        "report.case_updated",
        subject_type="report_case",
        subject_id=case.id,
        actor="system:haven",
        data={"fields": changed or ["decisions"], "decision_id": decision_id},
    )
    return case


def _overturn(session: Session, decision_id: str, event: Event) -> None:
    case = session.scalar(select(ReportCase).where(ReportCase.decision_id == decision_id))
    if case is None:
        return
    if case.status in ("draft", "queued", "failed", "credential_alert"):
        case.status = "cancelled"
        case.updated_at = now()
        record_event(
            session,
            "report.cancelled",
            subject_type="report_case",
            subject_id=case.id,
            actor=event.actor,
            data={"reason": "decision overturned", "by_decision": (event.data or {}).get("decision_id")},
        )
    else:
        # A finished report cannot be withdrawn (there is no API for it): tell staff.
        record_event(
            session,
            "report.overturned_after_submission",
            subject_type="report_case",
            subject_id=case.id,
            actor=event.actor,
            data={"status": case.status},
        )


def _conversation_messages(session: Session, conversation_id: str) -> list[ConversationMessage]:
    return list(
        session.scalars(
            select(ConversationMessage)
            .where(ConversationMessage.conversation_id == conversation_id)
            .order_by(ConversationMessage.turn)
        )
    )


def conversation_rows(messages: list[ConversationMessage]) -> list[dict[str, Any]]:
    """The CSV rows (`CONVERSATION_COLUMNS`) of stored messages; several recipients are joined
    with "; ". Messages without text (an attachment only) are kept with an empty text."""
    return [
        {
            "sent_at": m.sent_at.isoformat(),
            "sender": m.sender,
            "recipient": "; ".join(r for r in m.recipients or [] if r != m.sender),
            "text": m.text or "",
        }
        for m in messages
    ]


def attach_conversation_messages(
    session: Session,
    vault: Vault,
    case: ReportCase,
    conversation_id: str,
    messages: list[ConversationMessage],
    *,
    keep: list[dict[str, Any]] | None = None,
) -> EvidenceObject:
    """Attach the reviewed conversation to its case as the supplemental CSV and preserve it in
    the vault at once. Only this conversation's messages are read (data minimisation): the read
    is audited as the system's (`conversation.read`), the attachment recorded as
    `report.conversation_attached` with `source` "system"."""
    audit(
        session,
        actor="system:haven",
        action="conversation.read",
        object_type="conversation",
        object_id=conversation_id,
        purpose="preservation for a CyberTipline report",
        details={"case_id": case.id, "messages": len(messages)},
    )
    # `keep`: rows already on the case (another conversation of the same incident) stay first.
    rows = [*(keep or []), *(r for r in conversation_rows(messages) if r not in (keep or []))]
    case.conversation = rows
    obj = vault.put(
        session,
        conversation_csv(rows),
        actor=Actor("system", "haven"),
        kind="conversation",
        file_name=f"conversation-{case.id}.csv",
        content_type="text/csv",
        case_id=case.id,
        account_id=(case.reported_account or {}).get("esp_identifier"),
    )
    record_event(
        session,
        "report.conversation_attached",
        subject_type="report_case",
        subject_id=case.id,
        actor="system:haven",
        data={"rows": len(rows), "conversation_id": conversation_id, "evidence_object_id": obj.id, "source": "system"},
    )
    return obj


def _items(session: Session, content_ids: list[str]) -> list[ContentItem]:
    if not content_ids:
        return []
    rows = {i.id: i for i in session.scalars(select(ContentItem).where(ContentItem.id.in_(content_ids)))}
    return [rows[c] for c in content_ids if c in rows]


def preserve_item(
    session: Session, settings: Settings, vault: Vault, case: ReportCase, item: ContentItem
) -> EvidenceObject | None:
    """Copy an item's quarantined bytes into the vault (once per case and item)."""

    existing = session.scalar(
        select(EvidenceObject).where(EvidenceObject.case_id == case.id, EvidenceObject.content_id == item.id)
    )
    if existing is not None or item.quarantine_id is None:
        return existing
    try:
        data = quarantine.read(
            session,
            settings,
            item.quarantine_id,
            actor="system:haven",
            purpose="preservation for a CyberTipline report",
            action=quarantine.MACHINE_READ,
        )
    except NotFound:
        # The bytes are gone (deleted from quarantine): the case still opens, and staff see why
        # the file cannot be sent (they may drop it from the case with `content_ids`).
        record_event(
            session,
            "report.material_missing",
            subject_type="report_case",
            subject_id=case.id,
            actor="system:haven",
            data={"content_id": item.id},
        )
        return None
    qrow = session.get(QuarantineObject, item.quarantine_id)
    # Named and typed by the bytes, never by the service's `content_type` (free text).
    sniffed = sniff_media_kind(data)
    mime = sniffed[1] if sniffed else "application/octet-stream"
    return vault.put(
        session,
        data,
        actor=Actor("system", "haven"),
        kind="media",
        file_name=f"{item.id}.{mime.split('/')[1] if sniffed else 'bin'}",  # e.g. .jpeg, .png, .mp4
        content_type=mime,
        case_id=case.id,
        content_id=item.id,
        account_id=item.uploader,
        expected_sha256=item.sha256 or (qrow.sha256 if qrow else None),
    )


# -- drafting ------------------------------------------------------------------------------


def update_case(session: Session, case_id: str, actor: Actor, changes: dict[str, Any]) -> ReportCase:
    """Change what the law leaves to the service (a draft only)."""
    case = get_case(session, case_id, actor)
    if case.status not in ("draft", "failed"):
        raise Conflict(f"report case {case.id} is {case.status}; only drafts can be edited", code="report_not_draft")
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise Invalid(
            f"not editable: {', '.join(unknown)}", code="field_not_editable", details={"editable": list(EDITABLE)}
        )
    if "content_ids" in changes:
        extra = sorted(set(changes["content_ids"] or []) - set(case.content_ids or []))
        if extra:
            raise Invalid(
                "items can be dropped from a case, not added (a new decision opens a new case)",
                code="content_not_in_case",
            )
    if "annotations" in changes:
        bad = sorted(set(changes["annotations"]) - set(REPORT_ANNOTATIONS))
        if bad:
            raise Invalid(f"unknown report annotations: {', '.join(bad)}", code="invalid_annotation")
    if "classifications" in changes:
        bad = sorted({v for v in changes["classifications"].values() if v not in INDUSTRY_CLASSIFICATIONS})
        if bad:
            raise Invalid(
                f"industry classification must be one of A1, A2, B1, B2 (got {', '.join(bad)})",
                code="invalid_classification",
            )
    if "incident_at" in changes and isinstance(changes["incident_at"], str):
        try:
            changes["incident_at"] = datetime.fromisoformat(changes["incident_at"].replace("Z", "+00:00"))
        except ValueError:
            raise Invalid(
                "incident_at must be an ISO 8601 date-time with a time zone", code="invalid_datetime"
            ) from None
    if "incident_at" in changes and (
        not isinstance(changes["incident_at"], datetime) or changes["incident_at"].tzinfo is None
    ):
        raise Invalid("incident_at must be an ISO 8601 date-time with a time zone", code="invalid_datetime")
    people = [changes["reported_account"]] if isinstance(changes.get("reported_account"), dict) else []
    for key in ("recipients", "victims"):
        people += list(changes.get(key) or [])
    for p in people:
        try:
            _person(p)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise Invalid(f"a person entry is not valid: {exc}", code="invalid_person") from None
    for k, v in changes.items():
        setattr(case, k, v)
    case.updated_at = now()
    record_event(
        session,
        "report.case_updated",
        subject_type="report_case",
        subject_id=case.id,
        actor=actor.ref,
        data={"fields": sorted(changes)},
    )
    return case


def escalate(session: Session, case_id: str, actor: Actor, reason: str) -> ReportCase:
    """Ask NCMEC for high priority (a child at imminent risk); the reason is what is sent."""
    if not reason.strip():
        raise Invalid("give the reason for escalating", code="reason_required")
    return update_case(session, case_id, actor, {"escalation_reason": reason.strip()[:3000]})


def attach_conversation(session: Session, case_id: str, actor: Actor, rows: list[dict[str, Any]]) -> ReportCase:
    """Attach the conversation of a text-only case (enticement, sextortion); it is sent as a
    supplemental CSV file and preserved in the vault when the case is queued."""
    case = get_case(session, case_id, actor)
    if case.status not in ("draft", "failed"):
        raise Conflict(f"report case {case.id} is {case.status}; only drafts can be edited", code="report_not_draft")
    clean: list[dict[str, Any]] = []
    for i, r in enumerate(rows):
        if not isinstance(r, dict) or not str(r.get("text") or "").strip():
            raise Invalid(f"conversation row {i} has no text", code="invalid_conversation")
        clean.append({c: (str(r.get(c)) if r.get(c) is not None else "") for c in CONVERSATION_COLUMNS})
    case.conversation = clean
    case.updated_at = now()
    record_event(
        session,
        "report.conversation_attached",
        subject_type="report_case",
        subject_id=case.id,
        actor=actor.ref,
        data={"rows": len(clean)},
    )
    return case


def conversation_csv(rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(CONVERSATION_COLUMNS), lineterminator="\r\n")
    w.writeheader()
    for r in rows:
        w.writerow({c: r.get(c, "") for c in CONVERSATION_COLUMNS})
    return buf.getvalue().encode("utf-8")


# -- views and report data -----------------------------------------------------------------


def recorded_views(session: Session, item: ContentItem) -> list[AuditRecord]:
    """Views of this exact file by a person, from the audit log."""
    evidence_ids = list(session.scalars(select(EvidenceObject.id).where(EvidenceObject.content_id == item.id)))
    conds = []
    if item.quarantine_id:
        conds.append(and_(AuditRecord.object_type == "quarantine_object", AuditRecord.object_id == item.quarantine_id))
    if evidence_ids:
        conds.append(and_(AuditRecord.object_type == "evidence_object", AuditRecord.object_id.in_(evidence_ids)))
    if not conds:
        return []
    rows = session.scalars(
        select(AuditRecord)
        .where(AuditRecord.action == "media.view", AuditRecord.actor.like("staff:%"), or_(*conds))
        .order_by(AuditRecord.created_at)
    )
    # The quarantine view names its content item; a record about another item is not this file.
    return [r for r in rows if (r.details or {}).get("content_id") in (None, item.id)]


def exif_views(session: Session, item: ContentItem) -> list[AuditRecord]:
    """The recorded openings of this file's metadata view by a person (`media.exif_view`),
    oldest first: who looked at the EXIF, and when."""
    if not item.quarantine_id:
        return []
    rows = session.scalars(
        select(AuditRecord)
        .where(
            AuditRecord.action == "media.exif_view",
            AuditRecord.actor.like("staff:%"),
            AuditRecord.object_type == "quarantine_object",
            AuditRecord.object_id == item.quarantine_id,
        )
        .order_by(AuditRecord.created_at)
    )
    return [r for r in rows if (r.details or {}).get("content_id") in (None, item.id)]


def exif_viewed(session: Session, item: ContentItem) -> bool:
    """True only if a person opened the file's metadata view (`media.exif_view` in the audit log)."""
    return bool(exif_views(session, item))


def _person(d: dict[str, Any]) -> PersonInfo:
    def dt(v: Any) -> datetime | None:
        if not v:
            return None
        t = datetime.fromisoformat(str(v).replace("Z", "+00:00"))
        if t.tzinfo is None:
            raise ValueError(f"{v!r} has no time zone")
        return t

    age = d.get("age")
    if age is not None and (isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 150):
        raise ValueError(f"age must be a whole number from 0 to 150 (got {age!r})")
    if d.get("date_of_birth"):
        date.fromisoformat(str(d["date_of_birth"]))
    for e in d.get("ip_events") or []:
        ipaddress.ip_address(str(e["ip"]))
        if e.get("event", "Unknown") not in EVENT_NAMES:
            raise ValueError(f"an IP event is one of {', '.join(EVENT_NAMES)} (got {e.get('event')!r})")
    return PersonInfo(
        esp_identifier=d.get("esp_identifier"),
        screen_name=d.get("screen_name"),
        display_names=list(d.get("display_names") or []),
        profile_urls=list(d.get("profile_urls") or []),
        emails=list(d.get("emails") or []),
        phones=list(d.get("phones") or []),
        first_name=d.get("first_name"),
        last_name=d.get("last_name"),
        age=d.get("age"),
        date_of_birth=d.get("date_of_birth"),
        ip_events=[IpEvent(e["ip"], e.get("event", "Unknown"), dt(e.get("at"))) for e in d.get("ip_events") or []],
        disabled_at=dt(d.get("disabled_at")),
        permanently_disabled=bool(d.get("permanently_disabled")),
        country_code=d.get("country_code"),
        additional_info=d.get("additional_info"),
    )


def report_data(session: Session, case: ReportCase, cfg: CybertipSettings) -> ReportData:
    """Everything the `<report>` says, from the case, its items and settings."""
    reported = _person(case.reported_account) if case.reported_account else None
    if reported is not None and reported.esp_identifier:
        # IP capture events: the uploads of the confirmed items by the reported account.
        seen = {(e.ip, e.at) for e in reported.ip_events}
        for item in _items(session, case.content_ids):
            if item.ip and item.uploader == reported.esp_identifier:
                at = item.created_at or item.received_at
                if (item.ip, at) not in seen:
                    reported.ip_events.append(IpEvent(item.ip, "Upload", at))
                    seen.add((item.ip, at))
    category = CATEGORIES.get(case.category)
    return ReportData(
        incident_type=case.incident_type,
        incident_at=case.incident_at,
        incident_description=case.incident_description,
        reporter_email=cfg.reporter_email,
        reporter_first_name=cfg.reporter_first_name or None,
        reporter_last_name=cfg.reporter_last_name or None,
        platform=cfg.platform or None,
        esp_service=cfg.esp_service or None,
        escalation_reason=case.escalation_reason,
        annotations=list(case.annotations or []),
        chat_client=(cfg.platform or "chat") if case.conversation else None,
        company_template=cfg.company_template or None,
        terms_of_service=cfg.terms_of_service or None,
        legal_url=cfg.legal_url or None,
        reported=reported,
        recipients=[_person(r) for r in case.recipients or []],
        victims=[_person(v) for v in case.victims or []],
        prior_reports=list(case.prior_reports or []),
        additional_info=case.additional_info
        or (f"Reported under policy category: {category.title}." if category else None),
    )


@dataclass
class PlannedFile:
    kind: str
    content_id: str | None
    file_name: str
    evidence_object_id: str | None
    md5: str
    data: FileData


def planned_files(
    session: Session, case: ReportCase, *, report_id: str = "0", file_ids: dict[str, str] | None = None
) -> list[PlannedFile]:
    """The files the report will carry, each with its `fileDetails` facts."""
    out: list[PlannedFile] = []
    for item in _items(session, case.content_ids):
        obj = session.scalar(
            select(EvidenceObject).where(EvidenceObject.case_id == case.id, EvidenceObject.content_id == item.id)
        )
        views = recorded_views(session, item)
        hashes = [
            (t, v) for t, v in (("MD5", item.md5), ("SHA1", item.sha1), ("SHA256", item.sha256), ("PDQ", item.pdq)) if v
        ]
        ip = IpEvent(item.ip, "Upload", item.created_at or item.received_at) if item.ip else None
        name = obj.file_name if obj else f"{item.id}"
        out.append(
            PlannedFile(
                kind="media",
                content_id=item.id,
                file_name=name,
                evidence_object_id=obj.id if obj else None,
                md5=item.md5 or "",
                data=FileData(
                    report_id=report_id,
                    file_id=(file_ids or {}).get(item.id, "0"),
                    file_name=name,
                    original_file_name=item.external_id,
                    uploaded_at=item.created_at or item.received_at,
                    viewed_by_esp=bool(views),
                    exif_viewed_by_esp=exif_viewed(session, item),
                    relevance="Reported",
                    annotations=list((case.file_annotations or {}).get(item.id, [])),
                    classification=(case.classifications or {}).get(item.id),
                    hashes=hashes,
                    ip_event=ip,
                ),
            )
        )
    if case.conversation:
        data = conversation_csv(case.conversation)
        out.append(
            PlannedFile(
                kind="conversation",
                content_id=None,
                file_name=f"conversation-{case.id}.csv",
                evidence_object_id=None,
                md5=hashlib.md5(data).hexdigest(),  # noqa: S324  (NCMEC's integrity hash, not security)
                data=FileData(
                    report_id=report_id,
                    file_id=(file_ids or {}).get("conversation", "0"),
                    file_name=f"conversation-{case.id}.csv",
                    relevance="Supplemental Reported",
                    hashes=[("MD5", hashlib.md5(data).hexdigest()), ("SHA256", hashlib.sha256(data).hexdigest())],  # noqa: S324
                    additional_info=[
                        "The complete conversation (18 U.S.C. 2258A(b)(5)) as CSV: sent_at, sender, recipient, text."
                    ],
                ),
            )
        )
    return out


def render(session: Session, case_id: str, actor: Actor, cfg: CybertipSettings) -> dict[str, Any]:
    """The report XML and each file's fileDetails, as they would be sent now, validated."""
    case = get_case(session, case_id, actor)
    xml = build_report(report_data(session, case, cfg))
    errors: list[str] = []

    xsd = active_xsd_path(get_settings().var_dir)
    errors += validation_errors(xml, xsd)
    files = []
    for f in planned_files(session, case):
        details = build_file_details(f.data)
        errors += validation_errors(details, xsd)
        files.append(
            {
                "kind": f.kind,
                "content_id": f.content_id,
                "file_name": f.file_name,
                "viewed_by_esp": f.data.viewed_by_esp,
                "details_xml": details.decode(),
            }
        )
    return {"xml": xml.decode(), "files": files, "errors": errors}


# -- submitting ----------------------------------------------------------------------------


def queue_submission(
    session: Session, settings: Settings, case_id: str, actor: Actor, cfg: CybertipSettings
) -> ReportCase:
    """Validate the case and queue it for the worker, bound to the configured environment."""
    require(actor, SUBMIT_ROLES, "submitting a CyberTipline report")
    case = get_case(session, case_id, actor)
    # Test-mode traffic is only ever reported to the test environment (haven.cybertip.mode).
    cfg = settings_for_case(session, case, cfg)
    if case.status not in ("draft", "failed", "credential_alert"):
        raise Conflict(f"report case {case.id} is {case.status}", code="report_not_submittable")
    if (
        case.environment
        and case.environment != cfg.environment
        and session.scalar(
            select(Submission.id).where(
                Submission.case_id == case.id, Submission.state.in_(("open", "finishing", "submitting"))
            )
        )
    ):
        raise Conflict(
            f"this case has an open {case.environment} report; Haven is configured for {cfg.environment}",
            code="environment_mismatch",
        )
    files = planned_files(session, case)
    if not files and not case.content_ids:
        raise Invalid("the case has no file and no conversation to report", code="report_empty")
    xsd = active_xsd_path(settings.var_dir)
    validate(build_report(report_data(session, case, cfg)), xsd)
    for f in files:
        validate(build_file_details(f.data), xsd)
    vault = Vault.from_settings(settings)
    # Freeze the file list: one row per file, the conversation preserved in the vault.
    existing = {
        (r.kind, r.content_id): r for r in session.scalars(select(ReportFile).where(ReportFile.case_id == case.id))
    }
    for pos, f in enumerate(files):
        row = existing.get((f.kind, f.content_id))
        object_id = f.evidence_object_id
        if f.kind == "conversation":
            data = conversation_csv(case.conversation)
            preserved = session.scalar(
                select(EvidenceObject).where(
                    EvidenceObject.case_id == case.id,
                    EvidenceObject.kind == "conversation",
                    EvidenceObject.sha256 == hashlib.sha256(data).hexdigest(),
                    EvidenceObject.destroyed_at.is_(None),
                )
            )
            if preserved is not None:
                object_id = preserved.id  # preserved when attached (a system-attached conversation)
            elif row is None or session.get(EvidenceObject, row.evidence_object_id) is None or row.md5 != f.md5:
                obj = vault.put(
                    session,
                    data,
                    actor=actor,
                    kind="conversation",
                    file_name=f.file_name,
                    content_type="text/csv",
                    case_id=case.id,
                    account_id=(case.reported_account or {}).get("esp_identifier"),
                )
                object_id = obj.id
            else:
                object_id = row.evidence_object_id
        if object_id is None:
            raise Invalid(f"content {f.content_id} has no preserved bytes to send", code="file_not_preserved")
        if row is None:
            row = ReportFile(
                id=new_id(),
                case_id=case.id,
                content_id=f.content_id,
                kind=f.kind,
                file_name=f.file_name,
                evidence_object_id=object_id,
                md5=f.md5,
            )
            session.add(row)
        row.position = pos
        row.evidence_object_id = object_id
        row.md5 = f.md5
        row.viewed_by_esp = f.data.viewed_by_esp
        row.exif_viewed_by_esp = f.data.exif_viewed_by_esp
        if f.content_id:
            item = session.get(ContentItem, f.content_id)
            row.views = (
                [
                    {"actor": v.actor, "at": v.created_at.isoformat(), "audit_id": v.id}
                    for v in recorded_views(session, item)
                ]
                if item
                else []
            )
    for stale in session.scalars(
        select(Submission).where(Submission.case_id == case.id, Submission.state.in_(("open", "finishing")))
    ):
        stale.state = "retracting"  # the case may have been edited: start over from a fresh report
    case.status = "queued"
    case.environment = cfg.environment
    case.submitted_by = actor.ref
    case.submitted_at = now()
    case.error_code = None
    case.error_message = None
    record_event(
        session,
        "report.queued",
        subject_type="report_case",
        subject_id=case.id,
        actor=actor.ref,
        data={"environment": cfg.environment, "files": len(files)},
    )
    enqueue(
        session,
        "report.advance",
        {"case_id": case.id},
        dedupe_key=f"report.advance:{case.id}:{new_id()}",
        max_attempts=50,
    )
    return case


def cancel(session: Session, case_id: str, actor: Actor, reason: str) -> ReportCase:
    """Withdraw a case before it is finished; an open NCMEC report is retracted by the worker."""
    require(actor, SUBMIT_ROLES, "cancelling a report")
    case = get_case(session, case_id, actor)
    if case.status in ("finished", "cancelled"):
        raise Conflict(
            f"report case {case.id} is {case.status}; a finished report cannot be withdrawn",
            code="report_not_cancellable",
        )
    open_sub = session.scalar(
        select(Submission).where(
            Submission.case_id == case.id, Submission.state.in_(("open", "finishing", "retracting"))
        )
    )
    case.status = "cancelling" if open_sub is not None or case.status == "submitting" else "cancelled"
    case.updated_at = now()
    record_event(
        session,
        "report.cancel_requested",
        subject_type="report_case",
        subject_id=case.id,
        actor=actor.ref,
        data={"reason": reason},
    )
    if case.status == "cancelling":
        enqueue(
            session,
            "report.advance",
            {"case_id": case.id},
            dedupe_key=f"report.advance:{case.id}:{new_id()}",
            max_attempts=50,
        )
    return case


def resume(session: Session, case_id: str, actor: Actor) -> ReportCase:
    """Re-queue a case paused on a credential alert once the credentials are fixed."""
    require(actor, SUBMIT_ROLES, "resuming a report")
    case = get_case(session, case_id, actor)
    if case.status != "credential_alert":
        raise Conflict(
            f"report case {case.id} is {case.status}, not paused on a credential alert", code="report_not_paused"
        )
    case.status = "queued"
    case.error_code = None
    case.error_message = None
    record_event(session, "report.resumed", subject_type="report_case", subject_id=case.id, actor=actor.ref)
    enqueue(
        session,
        "report.advance",
        {"case_id": case.id},
        dedupe_key=f"report.advance:{case.id}:{new_id()}",
        max_attempts=50,
    )
    return case
