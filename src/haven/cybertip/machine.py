"""The submission state machine, worked by `haven worker` (job kind `report.advance`).

Each step persists its intent, makes one request, then records the call and the outcome
in one transaction. So after a crash at any point the database says exactly which request may
be in flight, and the next run decides safely:

- `/submit` is not idempotent. A submission left in `submitting` lost its response: it is
  marked `lost` and a new one is opened. The lost report, if NCMEC created it, is never
  finished, so NCMEC deletes it (24 h); only a report whose id we hold is ever finished, and a
  partial unique index allows one finished submission per case.
- An `/upload` or `/fileinfo` in flight has an unknown effect (a duplicate file, or details
  given twice), so the open report is retracted and the case starts over cleanly.
- `/finish` may be repeated: 5102 "already finished" on a repeat means done.

Response classes: 1xxx retry the same step later; 2000/3xxx (and HTTP 401) pause the case on
a credential alert; 4xxx and unknown codes fail the case with the error shown to staff;
5001/5002 mean the report is gone (expired) and the case starts over; 5101 means retracted.
The open-report window (24 h after opening or 1 h after the last change, whichever is later)
is checked before every step: a report about to expire is retracted and submitted again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Counter, Histogram
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from haven.core.actors import Actor
from haven.core.clock import new_id, now
from haven.core.db import Database
from haven.core.jobs import RetryLater, backoff_seconds, handler
from haven.core.ledger import record_event
from haven.core.models import Job
from haven.core.settings import get_settings
from haven.cybertip.cases import planned_files, recorded_views, report_data
from haven.cybertip.client import CybertipClient, Result, TransportError
from haven.cybertip.config import CybertipSettings, cybertip_settings
from haven.cybertip.mode import settings_for_case
from haven.cybertip.models import ReportCase, ReportFile, Submission, TiplineCall
from haven.cybertip.xml import active_xsd_path, build_file_details, build_report, validate
from haven.evidence.vault import Vault
from haven.screening.models import ContentItem

log = logging.getLogger("haven.cybertip")

REQUESTS = Counter(
    "haven_cybertip_requests_total",
    "Requests to the CyberTipline API by environment, endpoint and outcome (response code, or transport_error)",
    ["environment", "endpoint", "outcome"],
)
CREDENTIAL_ALERTS = Counter("haven_cybertip_credential_alerts_total", "Cases paused on a CyberTipline credential alert")
KNOWLEDGE_TO_FINISH = Histogram(
    "haven_cybertip_knowledge_to_finish_seconds",
    "From first knowledge (the confirming decision) to the finished report",
    buckets=(600, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 72 * 3600, 7 * 86400),
)
SYSTEM = Actor("system", "haven")

#: Test seam: called with "before:<endpoint>" after the intent is committed and with
#: "after:<endpoint>" once the response is in but not yet recorded. Tests raise from it to
#: kill the worker at every step.
CRASH_HOOK: Callable[[str], None] | None = None
#: Test seam: the HTTP transport the worker's client uses (None: the real network).
TRANSPORT_FACTORY: Callable[[], object] | None = None

LEASE = timedelta(seconds=300)
OPEN_WINDOW = timedelta(hours=24)
MODIFIED_WINDOW = timedelta(hours=1)
ACTIVE = ("queued", "submitting", "cancelling")


def _hook(point: str) -> None:
    if CRASH_HOOK is not None:
        CRASH_HOOK(point)


def deadline(sub: Submission) -> datetime | None:
    """When NCMEC deletes this open report if it is not finished."""
    if sub.opened_at is None:
        return None
    last = sub.last_modified_at or sub.opened_at
    return max(sub.opened_at + OPEN_WINDOW, last + MODIFIED_WINDOW)


@dataclass
class Step:
    endpoint: str
    submission_id: str
    file_id: str | None = None


class Stop(Exception):
    """Nothing more to do now (finished, paused, failed or cancelled)."""


@handler("report.advance")
def advance_job(db: Database, job: Job) -> None:
    advance(db, job.payload["case_id"], attempt=job.attempts)


def advance(db: Database, case_id: str, cfg: CybertipSettings | None = None, attempt: int = 1) -> str:
    """Run the case's submission to the end or to a pause; returns the case status.

    Retries back off exponentially but are always scheduled before the open report's
    deadline (less the margin), so a retry never lands on a report NCMEC has deleted.
    """
    cfg = cfg or cybertip_settings()
    with db.session() as s:
        case = s.get(ReportCase, case_id)
        if case is not None:  # test-mode traffic: the test environment only (haven.cybertip.mode)
            cfg = settings_for_case(s, case, cfg)
    owner = new_id()
    if not _lease(db, case_id, owner):
        raise RetryLater("another worker is submitting this case", 30)
    try:
        status = _advance(db, case_id, cfg, owner)
    except RetryLater as exc:
        _release(db, case_id, owner)
        raise RetryLater(str(exc), _retry_delay(db, case_id, cfg, attempt)) from exc
    except Exception:
        _release(db, case_id, owner)
        raise
    # (A killed worker releases nothing: its lease simply runs out.)
    _release(db, case_id, owner)
    return status


def _lease(db: Database, case_id: str, owner: str) -> bool:
    """Take or renew the case's lease with a conditional UPDATE (safe on both engines)."""
    t = now()
    with db.session() as s:
        res = s.execute(
            update(ReportCase)
            .where(
                ReportCase.id == case_id,
                or_(ReportCase.lease_owner.is_(None), ReportCase.lease_until < t, ReportCase.lease_owner == owner),
            )
            .values(lease_owner=owner, lease_until=t + LEASE)
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]


def _release(db: Database, case_id: str, owner: str) -> None:
    with db.session() as s:
        s.execute(
            update(ReportCase)
            .where(ReportCase.id == case_id, ReportCase.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )


def _retry_delay(db: Database, case_id: str, cfg: CybertipSettings, attempt: int) -> float:
    delay = backoff_seconds(attempt, base=5, cap=900)
    with db.session() as s:
        sub = _current(s, case_id)
        due = deadline(sub) if sub is not None and sub.state in ("open", "finishing") else None
    if due is not None:
        room = (due - now()).total_seconds() - cfg.deadline_margin_seconds
        delay = max(1.0, min(delay, room))
    return delay


def _advance(db: Database, case_id: str, cfg: CybertipSettings, owner: str) -> str:
    transport = TRANSPORT_FACTORY() if TRANSPORT_FACTORY is not None else None
    with CybertipClient(cfg, transport=transport) as client:  # type: ignore[arg-type]
        for _ in range(200):
            if not _lease(db, case_id, owner):
                raise RetryLater("lost the case's lease to another worker", 30)
            try:
                step = _plan(db, case_id, cfg)
            except Stop:
                break
            _hook(f"before:{step.endpoint}")
            try:
                result = _send(db, client, step)
            except TransportError as exc:
                _transport_failed(db, case_id, step, exc, cfg)
                raise RetryLater(str(exc), backoff_seconds(1, base=5, cap=300)) from exc
            _hook(f"after:{step.endpoint}")
            _apply(db, case_id, step, result, cfg)
    with db.session() as s:
        case = s.get(ReportCase, case_id)
        return case.status if case else "missing"


# -- planning: decide the next request and persist the intent --------------------------------


def _plan(db: Database, case_id: str, cfg: CybertipSettings) -> Step:
    with db.session() as s:
        step = _next_step(s, case_id, cfg)  # committed, whether a step or a stop
    if step is None:
        raise Stop
    return step


def _next_step(s: Session, case_id: str, cfg: CybertipSettings) -> Step | None:
    if True:
        case = s.get(ReportCase, case_id, with_for_update=True)
        if case is None or case.status not in ACTIVE:
            return None
        if not cfg.configured:
            _pause(
                s, case, 2000, "no CyberTipline credentials: set HAVEN_CYBERTIP_USERNAME and HAVEN_CYBERTIP_PASSWORD"
            )
            return None
        if case.environment != cfg.environment:
            _pause(
                s,
                case,
                3000,
                f"this case was queued for the {case.environment} environment but Haven is configured for "
                f"{cfg.environment}; report ids of the two are never mixed",
            )
            return None
        sub = _current(s, case.id)
        if case.status == "cancelling":
            if sub is not None and sub.state in ("open", "finishing", "retracting"):
                sub.state = "retracting"
                return Step("retract", sub.id)
            _set_status(s, case, "cancelled", "report.cancelled")
            return None
        if case.status == "queued":
            case.status = "submitting"
        while True:
            if sub is None or sub.state in ("lost", "retracted", "expired", "failed"):
                count = s.scalar(select(func.count()).select_from(Submission).where(Submission.case_id == case.id)) or 0
                if count >= cfg.max_submissions:
                    _fail(s, case, None, f"gave up after {count} attempts to open a report")
                    return None
                xml = build_report(report_data(s, case, cfg))
                validate(xml, active_xsd_path(get_settings().var_dir))
                sub = Submission(
                    id=new_id(),
                    case_id=case.id,
                    seq=count + 1,
                    environment=cfg.environment,
                    state="submitting",
                    xml=xml.decode(),
                )
                s.add(sub)
                for f in _files(s, case.id):
                    f.submission_id, f.stage, f.ncmec_file_id, f.details_xml = sub.id, "pending", None, None
                return Step("submit", sub.id)
            if sub.state == "submitting":
                # The /submit response never arrived: whatever NCMEC opened expires unfinished.
                sub.state = "lost"
                _case_event(s, case.id, "report.submission_lost", {"submission": sub.id})
                continue
            if sub.state == "retracting":
                return Step("retract", sub.id)
            if sub.state == "finishing":
                return Step("finish", sub.id)
            if sub.state == "finished":
                _set_status(s, case, "finished", None)
                return None
            # open
            due = deadline(sub)
            if due is not None and now() >= due:
                # NCMEC has deleted it: never call it again; its file ids died with it.
                sub.state = "expired"
                _case_event(
                    s, case.id, "report.expired", {"submission": sub.id, "ncmec_report_id": sub.ncmec_report_id}
                )
                continue
            for f in _files(s, case.id):
                if f.stage == "pending":
                    f.stage = "uploading"
                    return Step("upload", sub.id, f.id)
                if f.stage in ("uploading", "detailing"):
                    # In flight when the worker stopped: its effect is unknown, so start clean.
                    sub.state = "retracting"
                    _case_event(
                        s, case.id, "report.uncertain_step", {"submission": sub.id, "file": f.id, "stage": f.stage}
                    )
                    return Step("retract", sub.id)
                if f.stage == "uploaded":
                    f.stage = "detailing"
                    return Step("fileinfo", sub.id, f.id)
            sub.state = "finishing"
            return Step("finish", sub.id)


def _current(s: Session, case_id: str) -> Submission | None:
    return s.scalar(select(Submission).where(Submission.case_id == case_id).order_by(Submission.seq.desc()).limit(1))


def _files(s: Session, case_id: str) -> list[ReportFile]:
    return list(s.scalars(select(ReportFile).where(ReportFile.case_id == case_id).order_by(ReportFile.position)))


# -- sending ---------------------------------------------------------------------------------


def _send(db: Database, client: CybertipClient, step: Step) -> Result:
    with db.session() as s:
        sub = s.get(Submission, step.submission_id)
        assert sub is not None
        report_id, xml = sub.ncmec_report_id, sub.xml
        if step.endpoint == "submit":
            request = xml.encode()
        elif step.endpoint == "upload":
            f = s.get(ReportFile, step.file_id)
            assert f is not None and report_id is not None
            data = Vault.from_settings(get_settings()).read(
                s, f.evidence_object_id, actor=SYSTEM, purpose=f"upload to the CyberTipline, report {report_id}"
            )
            name = f.file_name
        elif step.endpoint == "fileinfo":
            f = s.get(ReportFile, step.file_id)
            assert f is not None and f.details_xml is not None
            request = f.details_xml.encode()
    if step.endpoint == "submit":
        return client.submit(request)
    assert report_id is not None
    if step.endpoint == "upload":
        return client.upload(report_id, name, data)
    if step.endpoint == "fileinfo":
        return client.fileinfo(request)
    if step.endpoint == "finish":
        return client.finish(report_id)
    return client.retract(report_id)


def _log(s: Session, case_id: str, step: Step, env: str, result: Result | None, error: str | None = None) -> None:
    outcome = (
        "transport_error"
        if result is None
        else str(result.code if result.code is not None else f"http_{result.http_status}")
    )
    REQUESTS.labels(env, step.endpoint, outcome).inc()
    body: str | None = None
    with_sub = s.get(Submission, step.submission_id)
    if step.endpoint == "submit" and with_sub is not None:
        body = with_sub.xml
    elif step.endpoint == "fileinfo" and step.file_id:
        f = s.get(ReportFile, step.file_id)
        body = f.details_xml if f else None
    elif step.endpoint == "upload" and step.file_id:
        f = s.get(ReportFile, step.file_id)
        rid = with_sub.ncmec_report_id if with_sub else ""
        body = f"id={rid}; file={f.file_name if f else ''}; md5={f.md5 if f else ''}"
    elif with_sub is not None:
        body = f"id={with_sub.ncmec_report_id}"
    s.add(
        TiplineCall(
            id=new_id(),
            case_id=case_id,
            submission_id=step.submission_id,
            environment=env,
            endpoint=step.endpoint,
            request_body=body,
            http_status=result.http_status if result else None,
            response_body=result.body.decode("utf-8", "replace") if result else None,
            request_id=result.request_id if result else None,
            response_code=result.code if result else None,
            error=error,
            duration_ms=result.duration_ms if result else 0,
            created_at=now(),
        )
    )


def _transport_failed(db: Database, case_id: str, step: Step, exc: TransportError, cfg: CybertipSettings) -> None:
    with db.session() as s:
        _log(s, case_id, step, cfg.environment, None, str(exc))
        if not exc.maybe_sent:
            _revert(s, step)  # never reached the server: the step can simply be repeated


def _revert(s: Session, step: Step) -> None:
    """Undo the intent of a step that certainly had no effect."""
    sub = s.get(Submission, step.submission_id)
    assert sub is not None
    if step.endpoint == "submit":
        # Never opened at NCMEC: forget the attempt, so outages do not use up the case's attempts.
        for row in _files(s, sub.case_id):
            if row.submission_id == sub.id:
                row.submission_id = None
        s.delete(sub)
    elif step.endpoint == "upload" and step.file_id:
        f = s.get(ReportFile, step.file_id)
        if f is not None:
            f.stage = "pending"
    elif step.endpoint == "fileinfo" and step.file_id:
        f = s.get(ReportFile, step.file_id)
        if f is not None:
            f.stage = "uploaded"


# -- applying the response -------------------------------------------------------------------


def _apply(db: Database, case_id: str, step: Step, result: Result, cfg: CybertipSettings) -> None:
    retry: float | None = None
    with db.session() as s:
        _log(s, case_id, step, cfg.environment, result)
        case = s.get(ReportCase, case_id)
        sub = s.get(Submission, step.submission_id)
        assert case is not None and sub is not None
        code = result.code
        if code is None and result.http_status >= 500:
            # A server or proxy error without a response document: the effect is unknown,
            # exactly like a lost response, so the intent stays and the next run decides.
            retry = backoff_seconds(1, base=5, cap=300)
        elif code == 0:
            _success(s, case, sub, step, result, cfg)
        elif code is not None and 1000 <= code < 2000:
            _revert(s, step)
            retry = backoff_seconds(1, base=5, cap=300)
        elif code is not None and (code == 2000 or 3000 <= code < 4000):
            _revert(s, step)
            _pause(s, case, code, _describe(result))
        elif code in (5001, 5002):
            sub.state = "expired"
            _case_event(s, case.id, "report.expired", {"submission": sub.id, "code": code})
        elif code == 5101:
            sub.state = "retracted"
            _after_retract(s, case, sub)
        elif code == 5102:
            _finished(s, case, sub, result)
        else:
            if step.endpoint in ("submit",):
                sub.state = "failed"
            _fail(s, case, code, _describe(result))
    if retry is not None:
        raise RetryLater(f"{step.endpoint}: {_describe(result)}", retry)


def _describe(result: Result) -> str:
    r = result.response
    if r is None:
        return f"HTTP {result.http_status} without a response document (Request-ID {result.request_id})"
    return f"{r.code} {r.description or ''}".strip() + f" on /{result.endpoint} (Request-ID {result.request_id})"


def _success(s: Session, case: ReportCase, sub: Submission, step: Step, result: Result, cfg: CybertipSettings) -> None:
    r = result.response
    assert r is not None
    t = now()
    if step.endpoint == "submit":
        if not r.report_id:
            sub.state = "lost"
            return
        sub.state, sub.ncmec_report_id, sub.opened_at, sub.last_modified_at = "open", r.report_id, t, t
        _case_event(
            s,
            case.id,
            "report.opened",
            {"environment": sub.environment, "ncmec_report_id": r.report_id, "submission": sub.id},
        )
    elif step.endpoint == "upload":
        f = s.get(ReportFile, step.file_id)
        assert f is not None
        sub.last_modified_at = t
        if not r.file_id or (r.hash or "").lower() != f.md5.lower():
            # The bytes NCMEC holds are not ours (or we cannot tell): a file cannot be removed
            # from an open report, so retract it and start over.
            f.stage = "uploading"
            sub.state = "retracting"
            _case_event(s, case.id, "report.upload_hash_mismatch", {"file": f.id, "ours": f.md5, "theirs": r.hash})
            return
        f.ncmec_file_id = r.file_id
        f.stage = "uploaded"
        _case_event(
            s, case.id, "report.file_uploaded", {"submission": sub.id, "file": f.id, "ncmec_file_id": r.file_id}
        )
        files = {
            p.content_id or "conversation": p
            for p in planned_files(
                s, case, report_id=sub.ncmec_report_id or "0", file_ids={(f.content_id or "conversation"): r.file_id}
            )
        }
        planned = files[f.content_id or "conversation"].data
        # The view flags as the audit log has them now (a view recorded since queueing counts).
        f.viewed_by_esp, f.exif_viewed_by_esp = planned.viewed_by_esp, planned.exif_viewed_by_esp
        item = s.get(ContentItem, f.content_id) if f.content_id else None
        if item is not None:
            f.views = [
                {"actor": v.actor, "at": v.created_at.isoformat(), "audit_id": v.id} for v in recorded_views(s, item)
            ]
        details = build_file_details(planned)
        validate(details, active_xsd_path(get_settings().var_dir))
        f.details_xml = details.decode()
    elif step.endpoint == "fileinfo":
        f = s.get(ReportFile, step.file_id)
        assert f is not None
        f.stage = "done"
        sub.last_modified_at = t
    elif step.endpoint == "finish":
        _finished(s, case, sub, result)
    elif step.endpoint == "retract":
        sub.state = "retracted"
        _case_event(s, case.id, "report.retracted", {"submission": sub.id, "ncmec_report_id": sub.ncmec_report_id})
        _after_retract(s, case, sub)


def _after_retract(s: Session, case: ReportCase, sub: Submission) -> None:
    if case.status == "cancelling":
        _set_status(s, case, "cancelled", "report.cancelled")


def _finished(s: Session, case: ReportCase, sub: Submission, result: Result) -> None:
    t = now()
    sub.state = "finished"
    sub.finished_at = t
    sub.receipt = result.body.decode("utf-8", "replace")
    case.ncmec_report_id = sub.ncmec_report_id
    case.finished_at = t
    case.error_code = None
    case.error_message = None
    _set_status(s, case, "finished", None)
    seconds = (t - case.first_knowledge_at).total_seconds()
    KNOWLEDGE_TO_FINISH.observe(max(0.0, seconds))
    _case_event(
        s,
        case.id,
        "report.finished",
        {
            "environment": sub.environment,
            "ncmec_report_id": sub.ncmec_report_id,
            "files": [f.ncmec_file_id for f in _files(s, case.id)],
            "seconds_since_knowledge": seconds,
            "category": case.category,
        },
    )
    vault = Vault.from_settings(get_settings())
    # The report as sent and its receipt are preserved with the material (2258A(h)(1)).
    vault.put(
        s,
        sub.xml.encode(),
        actor=SYSTEM,
        kind="report_xml",
        file_name=f"report-{sub.ncmec_report_id}.xml",
        content_type="text/xml",
        case_id=case.id,
    )
    vault.put(
        s,
        result.body,
        actor=SYSTEM,
        kind="receipt",
        file_name=f"receipt-{sub.ncmec_report_id}.xml",
        content_type="text/xml",
        case_id=case.id,
    )
    vault.start_retention(s, case.id, t)


def _case_event(s: Session, case_id: str, event_type: str, data: dict[str, Any] | None = None) -> None:
    """Every event the submission machine records is the system's, about one report case."""
    record_event(s, event_type, subject_type="report_case", subject_id=case_id, actor=SYSTEM.ref, data=data)


def _set_status(s: Session, case: ReportCase, status: str, event: str | None) -> None:
    if case.status == status:
        return
    case.status = status
    case.updated_at = now()
    if event:
        _case_event(s, case.id, event)


def _pause(s: Session, case: ReportCase, code: int, message: str) -> None:
    case.status = "credential_alert"
    case.error_code = code
    case.error_message = message
    case.updated_at = now()
    log.error("CyberTipline credential alert", extra={"case_id": case.id, "code": code})
    CREDENTIAL_ALERTS.inc()
    _case_event(s, case.id, "report.credential_alert", {"code": code, "message": message})


def _fail(s: Session, case: ReportCase, code: int | None, message: str) -> None:
    case.status = "failed"
    case.error_code = code
    case.error_message = message
    case.updated_at = now()
    _case_event(s, case.id, "report.failed", {"code": code, "message": message})
