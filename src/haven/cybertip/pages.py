"""The console's report desk: report cases with their age and the open report's deadline, the
draft with every field (editable where the law leaves it to the service), escalation, submission,
the receipt, and every call with the CyberTipline with its Request-ID.

Everything here goes through `haven.cybertip.cases` (and its checks): `legal` and
`child_safety_reviewer` may read and draft; only `legal` may submit, resume or cancel.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from haven.console.web import (
    PREFIX,
    StaffContext,
    add_nav,
    add_template_dir,
    console_router,
    csrf_protect,
    current_staff,
    redirect,
    render,
)
from haven.core.clock import now
from haven.core.db import Database
from haven.core.errors import Conflict, HavenError, Invalid
from haven.cybertip import cases
from haven.cybertip.config import cybertip_settings
from haven.cybertip.machine import deadline
from haven.cybertip.models import ReportCase, ReportFile, Submission
from haven.cybertip.service import calls, summary
from haven.cybertip.xml import EVENT_NAMES, FILE_ANNOTATIONS, INDUSTRY_CLASSIFICATIONS, REPORT_ANNOTATIONS
from haven.evidence.models import EvidenceObject
from haven.screening.models import ContentItem
from haven.staff.models import StaffMember

add_template_dir(Path(__file__).resolve().parent / "templates")
add_nav("Reports", f"{PREFIX}/reports", cases.DRAFT_ROLES)
router = console_router()
Drafter = Annotated[StaffContext, Depends(current_staff(*cases.DRAFT_ROLES))]
Legal = Annotated[StaffContext, Depends(current_staff(*cases.SUBMIT_ROLES))]
CSRF = [Depends(csrf_protect)]
EDITABLE_STATES = ("draft", "failed")
SUBMITTABLE_STATES = ("draft", "failed", "credential_alert")
IN_PROGRESS = ("queued", "submitting", "cancelling")
#: The person fields the form edits; other keys of a stored person (disabled_at, ...) are kept.
PERSON_TEXT = ("esp_identifier", "screen_name", "first_name", "last_name", "date_of_birth", "country_code")
PERSON_LISTS = ("display_names", "emails", "phones", "profile_urls")


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _ago(seconds: float) -> str:
    m = int(seconds // 60)
    if m < 60:
        return f"{m} min"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min" if h < 48 else f"{h // 24} d {h % 24} h"


def _open_deadline(s: Session, case: ReportCase) -> datetime | None:
    sub = s.scalar(select(Submission).where(Submission.case_id == case.id).order_by(Submission.seq.desc()).limit(1))
    return deadline(sub) if sub is not None and sub.state in ("open", "finishing") else None


# --- the list ----------------------------------------------------------------------------------


@router.get("/reports")
def report_list(request: Request, me: Drafter, status: str | None = None) -> Response:
    with _db(request).session() as s:
        rows = []
        for case in cases.list_cases(s, me.actor, status or None):
            summ = summary(s, case)
            rows.append(
                {
                    "case": case,
                    "age": _ago(summ["age_seconds"]),
                    "deadline": _open_deadline(s, case),
                    "error": summ["error"],
                    "files": len(case.content_ids or []) + (1 if case.conversation else 0),
                }
            )
    return render(request, "report_list.html", {"rows": rows, "status": status or "", "now_": now()}, me=me)


# --- the case page -----------------------------------------------------------------------------


def _names(s: Session, refs: set[str]) -> dict[str, str]:
    ids = {r.split(":", 1)[1] for r in refs if r.startswith("staff:")}
    if not ids:
        return {}
    return {
        f"staff:{i}": e for i, e in s.execute(select(StaffMember.id, StaffMember.email).where(StaffMember.id.in_(ids)))
    }


def _files(s: Session, case: ReportCase) -> list[dict[str, Any]]:
    """Each file with its hashes, classification and the truthful viewed flags: as sent once the
    case is queued (frozen in the file rows), otherwise as the audit log says now."""
    rows = {(r.kind, r.content_id): r for r in s.scalars(select(ReportFile).where(ReportFile.case_id == case.id))}
    out = []
    for f in cases.planned_files(s, case):
        row = rows.get((f.kind, f.content_id))
        item = s.get(ContentItem, f.content_id) if f.content_id else None
        views = [{"actor": v.actor, "at": v.created_at} for v in cases.recorded_views(s, item)] if item else []
        exif = [{"actor": v.actor, "at": v.created_at} for v in cases.exif_views(s, item)] if item else []
        sent = row is not None and case.status not in EDITABLE_STATES
        if sent and row is not None:
            views = [{"actor": v["actor"], "at": datetime.fromisoformat(v["at"])} for v in row.views or []]
        obj = s.get(EvidenceObject, f.evidence_object_id) if f.evidence_object_id else None
        out.append(
            {
                "kind": f.kind,
                "content_id": f.content_id,
                "file_name": f.file_name,
                "hashes": f.data.hashes,
                "classification": f.data.classification,
                "annotations": f.data.annotations,
                "uploaded_at": f.data.uploaded_at,
                "ip_event": f.data.ip_event,
                "viewed": row.viewed_by_esp if sent and row is not None else f.data.viewed_by_esp,
                "exif_viewed": row.exif_viewed_by_esp if sent and row is not None else f.data.exif_viewed_by_esp,
                "views": views,
                "exif_views": exif,
                "as_sent": sent,
                "stage": row.stage if row is not None else None,
                "ncmec_file_id": row.ncmec_file_id if row is not None else None,
                "preserved": obj is not None and obj.destroyed_at is None,
            }
        )
    return out


def _page(
    request: Request,
    me: StaffContext,
    case_id: str,
    *,
    posted: FormData | None = None,
    errors: dict[str, str] | None = None,
    action_error: HavenError | None = None,
    status: int = 200,
) -> Response:
    cfg = cybertip_settings()
    with _db(request).session() as s:
        case = cases.get_case(s, case_id, me.actor)
        summ = summary(s, case)
        files = _files(s, case)
        editable = case.status in EDITABLE_STATES
        check: dict[str, Any] | None = None
        reported_ips: list[Any] = []
        try:
            data = cases.report_data(s, case, cfg)
            reported_ips = list(data.reported.ip_events) if data.reported else []
            if editable:
                check = cases.render(s, case_id, me.actor, cfg)
        except (ValueError, HavenError) as exc:
            check = {"xml": "", "files": [], "errors": [str(exc)]}
        names = _names(
            s,
            {v["actor"] for f in files for v in f["views"] + f["exif_views"]}
            | {case.submitted_by or "", case.created_by},
        )
        ctx = {
            "case": case,
            "summ": summ,
            "files": files,
            "calls": calls(s, case.id),
            "conversation": list(case.conversation or [])[:200],
            "deadline": _open_deadline(s, case),
            "age": _ago(summ["age_seconds"]),
            "reported_ips": reported_ips,
            "editable": editable,
            "can_submit": me.has_any(*cases.SUBMIT_ROLES) and case.status in SUBMITTABLE_STATES,
            "is_legal": me.has_any(*cases.SUBMIT_ROLES),
            "in_progress": case.status in IN_PROGRESS,
            "check": check,
            "names": names,
            "environment": cfg.environment,
            "configured": cfg.configured,
            "errors": errors or {},
            "action_error": action_error,
            "report_annotations": REPORT_ANNOTATIONS,
            "file_annotations": FILE_ANNOTATIONS,
            "classifications": INDUSTRY_CLASSIFICATIONS,
            "event_names": EVENT_NAMES,
            "v": _Values(posted),
            "ip_text": _ip_text,
        }
    return render(request, "report_case.html", ctx, me=me, status=status)


def _ip_text(p: dict[str, Any]) -> str:
    return "\n".join(
        " ".join(x for x in (str(e.get("ip", "")), str(e.get("event", "Unknown")), str(e.get("at") or "")) if x)
        for e in p.get("ip_events") or []
    )


class _Values:
    """What a form field shows: the posted value after a refused edit (so nothing typed is
    lost), the stored one otherwise."""

    def __init__(self, posted: FormData | None) -> None:
        self.posted = posted

    def __call__(self, name: str, default: Any = "") -> str:
        if self.posted is not None:
            return str(self.posted.get(name, ""))
        return "" if default is None else str(default)

    def checked(self, name: str, value: str, default: bool) -> bool:
        if self.posted is not None:
            return value in self.posted.getlist(name)
        return default


@router.get("/reports/{case_id}")
def report_case(request: Request, me: Drafter, case_id: str) -> Response:
    return _page(request, me, case_id)


@router.get("/reports/{case_id}/status")
def report_status(request: Request, me: Drafter, case_id: str) -> Response:
    """The status block alone (polled by the page while the worker is sending the report)."""
    with _db(request).session() as s:
        case = cases.get_case(s, case_id, me.actor)
        ctx = {
            "case": case,
            "summ": summary(s, case),
            "deadline": _open_deadline(s, case),
            "in_progress": case.status in IN_PROGRESS,
        }
    return render(request, "report_status.html", ctx, me=me)


# --- editing -----------------------------------------------------------------------------------


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]


def _parse_time(text: str) -> datetime:
    """An ISO 8601 date-time; without a zone it is UTC (the form says so)."""
    t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _person(form: FormData, prefix: str, base: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    out = dict(base)
    for k in PERSON_TEXT:
        v = str(form.get(f"{prefix}-{k}", "")).strip()
        if v:
            out[k] = v
        else:
            out.pop(k, None)
    for k in PERSON_LISTS:
        out[k] = _split(str(form.get(f"{prefix}-{k}", "")))
    age = str(form.get(f"{prefix}-age", "")).strip()
    if age:
        if not age.isdigit() or int(age) > 150:
            errors[f"{prefix}-age"] = "Age is a whole number of years (0 to 150)."
        else:
            out["age"] = int(age)
    else:
        out.pop("age", None)
    dob = out.get("date_of_birth")
    if dob:
        try:
            datetime.strptime(dob, "%Y-%m-%d")
        except ValueError:
            errors[f"{prefix}-date_of_birth"] = "Date of birth is YYYY-MM-DD."
    events = []
    for n, line in enumerate(str(form.get(f"{prefix}-ip_events", "")).splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) > 3 or (len(parts) > 1 and parts[1] not in EVENT_NAMES):
            errors[f"{prefix}-ip_events"] = (
                f"Line {n}: write 'IP EVENT TIME', EVENT one of {', '.join(EVENT_NAMES)}, TIME in ISO 8601."
            )
            continue
        ev: dict[str, Any] = {"ip": parts[0], "event": parts[1] if len(parts) > 1 else "Unknown"}
        if len(parts) == 3:
            try:
                ev["at"] = _parse_time(parts[2]).isoformat()
            except ValueError:
                errors[f"{prefix}-ip_events"] = f"Line {n}: the time '{parts[2]}' is not ISO 8601."
                continue
        events.append(ev)
    out["ip_events"] = events
    note = str(form.get(f"{prefix}-additional_info", "")).strip()
    if note:
        out["additional_info"] = note
    else:
        out.pop("additional_info", None)
    return out


def _blank(person: dict[str, Any]) -> bool:
    return not any(v for k, v in person.items() if k != "ip_events") and not person.get("ip_events")


def _changes(form: FormData, case: ReportCase) -> tuple[dict[str, Any], dict[str, str]]:
    """The form as changes for `cases.update_case`, and what is wrong with it, per field."""
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}
    when = str(form.get("incident_at", "")).strip()
    if not when:
        errors["incident_at"] = "Give the time of the incident."
    else:
        try:
            t = _parse_time(when)
            if t > now():
                errors["incident_at"] = "The incident cannot be in the future."
            changes["incident_at"] = t
        except ValueError:
            errors["incident_at"] = "Write the time as YYYY-MM-DDTHH:MM (UTC)."
    changes["incident_description"] = str(form.get("incident_description", "")).strip() or None
    changes["additional_info"] = str(form.get("additional_info", "")).strip() or None
    changes["annotations"] = [a for a in form.getlist("annotations") if isinstance(a, str)]
    prior: list[int] = []
    for p in _split(str(form.get("prior_reports", ""))):
        if p.isdigit():
            prior.append(int(p))
        else:
            errors["prior_reports"] = f"'{p}' is not a CyberTipline report number."
    changes["prior_reports"] = prior
    changes["reported_account"] = _person(form, "reported", case.reported_account or {}, errors)
    for key, prefix in (("recipients", "recipient"), ("victims", "victim")):
        people = []
        stored = list(getattr(case, key) or [])
        for i in range(len(stored) + 1):
            entry = _person(form, f"{prefix}-{i}", stored[i] if i < len(stored) else {}, errors)
            if form.get(f"{prefix}-{i}-remove") or _blank(entry):
                continue
            people.append(entry)
        changes[key] = people
    keep = [c for c in case.content_ids or [] if form.get(f"keep-{c}")]
    if case.content_ids and not keep and not case.conversation:
        errors["files"] = "Keep at least one file: a report needs a file or a conversation."
    changes["content_ids"] = keep
    classes: dict[str, str] = {}
    flags: dict[str, list[str]] = {}
    for c in keep:
        cls = str(form.get(f"class-{c}", ""))
        if cls:
            classes[c] = cls
        flags[c] = [str(a) for a in form.getlist(f"fann-{c}")]
    changes["classifications"] = classes
    changes["file_annotations"] = {c: f for c, f in flags.items() if f}
    return changes, errors


#: Where a refusal of the service shows on the form.
_CODE_FIELD = {
    "invalid_datetime": "incident_at",
    "invalid_annotation": "annotations",
    "invalid_classification": "files",
    "content_not_in_case": "files",
    "invalid_person": "people",
}


@router.post("/reports/{case_id}/edit", dependencies=CSRF)
async def edit_case(request: Request, me: Drafter, case_id: str) -> Response:
    form = await request.form()
    return await run_in_threadpool(_edit, request, me, case_id, form)


def _edit(request: Request, me: StaffContext, case_id: str, form: FormData) -> Response:
    with _db(request).session() as s:
        case = cases.get_case(s, case_id, me.actor)
        if case.status not in EDITABLE_STATES:
            raise Conflict(
                f"report case {case.id} is {case.status}; only drafts can be edited", code="report_not_draft"
            )
        changes, errors = _changes(form, case)
        if not errors:
            try:
                cases.update_case(s, case_id, me.actor, changes)
            except Invalid as exc:
                s.rollback()
                errors[_CODE_FIELD.get(exc.code, "form")] = exc.message
    if errors:
        return _page(request, me, case_id, posted=form, errors=errors, status=422)
    return redirect(f"{PREFIX}/reports/{case_id}?saved=1", request)


@router.post("/reports/{case_id}/escalate", dependencies=CSRF)
def escalate_case(
    request: Request, me: Drafter, case_id: str, reason: Annotated[str, Form(max_length=3000)] = ""
) -> Response:
    """Ask NCMEC for high priority: a child is at imminent risk. The reason is what is sent."""
    try:
        with _db(request).session() as s:
            cases.escalate(s, case_id, me.actor, reason)
    except Invalid as exc:
        return _page(request, me, case_id, errors={"escalation_reason": exc.message}, status=422)
    return redirect(f"{PREFIX}/reports/{case_id}", request)


MAX_CONVERSATION_BYTES = 5 * 1024 * 1024


@router.post("/reports/{case_id}/conversation", dependencies=CSRF)
def attach_conversation(request: Request, me: Drafter, case_id: str, file: UploadFile | None = None) -> Response:
    """Attach the conversation of a text-only case (enticement, sextortion) as CSV with the
    columns sent_at, sender, recipient, text; it is sent as a supplemental file."""
    error = None
    rows: list[dict[str, str]] = []
    data = file.file.read(MAX_CONVERSATION_BYTES + 1) if file is not None and file.filename else b""
    if not data:
        error = "Choose a CSV file (columns sent_at, sender, recipient, text)."
    elif len(data) > MAX_CONVERSATION_BYTES:
        error = "The file is larger than 5 MB."
    else:
        try:
            reader = csv.DictReader(data.decode("utf-8-sig").splitlines())
            if "text" not in (reader.fieldnames or []):
                error = "The CSV needs a header row with a “text” column (and sent_at, sender, recipient)."
            rows = list(reader)
        except (UnicodeDecodeError, csv.Error) as exc:
            error = f"The file is not a UTF-8 CSV: {exc}"
    if error is None:
        try:
            with _db(request).session() as s:
                cases.attach_conversation(s, case_id, me.actor, rows)  # type: ignore[arg-type]
        except Invalid as exc:
            error = exc.message
    if error is not None:
        return _page(request, me, case_id, errors={"conversation": error}, status=422)
    return redirect(f"{PREFIX}/reports/{case_id}?saved=1", request)


@router.post("/reports/{case_id}/submit", dependencies=CSRF)
def submit_case(request: Request, me: Legal, case_id: str) -> Response:
    """Queue the case for the worker (legal only): the schema check runs first."""
    settings = request.app.state.settings
    try:
        with _db(request).session() as s:
            cases.queue_submission(s, settings, case_id, me.actor, cybertip_settings())
    except HavenError as exc:
        if exc.status_code in (401, 403, 404):
            raise
        return _page(request, me, case_id, action_error=exc, status=exc.status_code)
    return redirect(f"{PREFIX}/reports/{case_id}", request)


@router.post("/reports/{case_id}/resume", dependencies=CSRF)
def resume_case(request: Request, me: Legal, case_id: str) -> Response:
    """Send again after a credential alert, once the credentials are fixed."""
    try:
        with _db(request).session() as s:
            cases.resume(s, case_id, me.actor)
    except HavenError as exc:
        if exc.status_code in (401, 403, 404):
            raise
        return _page(request, me, case_id, action_error=exc, status=exc.status_code)
    return redirect(f"{PREFIX}/reports/{case_id}", request)


@router.post("/reports/{case_id}/cancel", dependencies=CSRF)
def cancel_case(
    request: Request, me: Legal, case_id: str, reason: Annotated[str, Form(max_length=3000)] = ""
) -> Response:
    if not reason.strip():
        return _page(request, me, case_id, errors={"cancel_reason": "Say why the report is withdrawn."}, status=422)
    try:
        with _db(request).session() as s:
            cases.cancel(s, case_id, me.actor, reason.strip())
    except HavenError as exc:
        if exc.status_code in (401, 403, 404):
            raise
        return _page(request, me, case_id, action_error=exc, status=exc.status_code)
    return redirect(f"{PREFIX}/reports/{case_id}", request)
