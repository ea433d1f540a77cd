"""Submission of statements of reasons to the DSA Transparency Database (DSA Art 24(5)).

The statements are stored in Transparency Database form when they are made (see
`notices.build_fields`); here they are checked against the documented rules (spec 2.5), sent in
batches of at most 100 to `POST /api/v1/statements` (all-or-nothing: errors are keyed
`statement_<n>`), and marked submitted only on 201. A duplicate `puid` (422 with `existing`)
means an earlier attempt was stored: it is marked submitted, never sent under a new puid.
Statements held back by a law-enforcement delay are not submitted until released.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.core import outbound
from haven.core.clock import now
from haven.core.db import Database
from haven.core.jobs import RetryLater, backoff_seconds, enqueue, handler
from haven.core.ledger import record_event
from haven.core.models import Job
from haven.enforce.models import StatementOfReasons
from haven.enforce.settings import get_enforce_settings
from haven.policy import dsa

log = logging.getLogger("haven.enforce.tdb")
JOB_KIND = "dsa.submit"


def validate(st: dict[str, Any]) -> list[str]:
    """Problems of one statement under the documented rules (empty when it would be accepted)."""
    p: list[str] = []

    def enum(name: str, allowed: tuple[str, ...], many: bool = False, required: bool = False) -> None:
        v = st.get(name)
        if v is None:
            if required:
                p.append(f"{name} is required")
            return
        values = v if many else [v]
        if many and (not isinstance(v, list) or not v):
            p.append(f"{name} must be a non-empty array")
            return
        for x in values:
            if x not in allowed:
                p.append(f"{name}: '{x}' is not allowed")

    enum("decision_visibility", dsa.DECISION_VISIBILITY, many=True)
    enum("decision_monetary", dsa.DECISION_MONETARY)
    enum("decision_provision", dsa.DECISION_PROVISION)
    enum("decision_account", dsa.DECISION_ACCOUNT)
    enum("account_type", dsa.ACCOUNT_TYPE)
    if not any(
        st.get(k) for k in ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
    ):
        p.append("one of decision_visibility, decision_monetary, decision_provision, decision_account is required")
    enum("decision_ground", dsa.DECISION_GROUND, required=True)
    if st.get("decision_ground") == "DECISION_GROUND_ILLEGAL_CONTENT":
        for k in ("illegal_content_legal_ground", "illegal_content_explanation"):
            if not st.get(k):
                p.append(f"{k} is required when the ground is illegal content")
    if st.get("decision_ground") == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        for k in ("incompatible_content_ground", "incompatible_content_explanation"):
            if not st.get(k):
                p.append(f"{k} is required when the ground is incompatible content")
    enum("incompatible_content_illegal", dsa.YES_NO)
    enum("content_type", dsa.CONTENT_TYPE, many=True, required=True)
    if "CONTENT_TYPE_OTHER" in (st.get("content_type") or []) and not st.get("content_type_other"):
        p.append("content_type_other is required with CONTENT_TYPE_OTHER")
    if "DECISION_VISIBILITY_OTHER" in (st.get("decision_visibility") or []) and not st.get("decision_visibility_other"):
        p.append("decision_visibility_other is required with DECISION_VISIBILITY_OTHER")
    enum("category", dsa.STATEMENT_CATEGORY, required=True)
    enum("category_addition", dsa.STATEMENT_CATEGORY, many=True)
    enum("category_specification", dsa.KEYWORDS, many=True)
    enum("territorial_scope", tuple(dsa.EEA_COUNTRIES), many=True)
    enum("source_type", dsa.SOURCE_TYPE, required=True)
    enum("automated_detection", dsa.YES_NO, required=True)
    enum("automated_decision", dsa.AUTOMATED_DECISION, required=True)
    for k, floor in (("content_date", date(2000, 1, 1)), ("application_date", date(2020, 1, 1))):
        v = st.get(k)
        try:
            if not isinstance(v, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) or date.fromisoformat(v) < floor:
                raise ValueError
        except ValueError:
            p.append(f"{k} must be YYYY-MM-DD on or after {floor.isoformat()}")
    for k in (
        "end_date_visibility_restriction",
        "end_date_monetary_restriction",
        "end_date_service_restriction",
        "end_date_account_restriction",
    ):
        v = st.get(k)
        if v is not None and (not isinstance(v, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)):
            p.append(f"{k} must be YYYY-MM-DD")
    if not st.get("decision_facts"):
        p.append("decision_facts is required")
    if not isinstance(st.get("puid"), str) or not re.fullmatch(dsa.PUID_PATTERN, st["puid"]):
        p.append("puid is required and matches ^[a-zA-Z0-9-_]+$")
    for k, n in dsa.MAX_LENGTHS.items():
        if isinstance(st.get(k), str) and len(st[k]) > n:
            p.append(f"{k} is longer than {n}")
    lang = st.get("content_language")
    if lang is not None and not re.fullmatch(r"[A-Z]{2}", str(lang)):
        p.append("content_language is an uppercase ISO 639-1 code")
    return p


def pending(session: Session, limit: int) -> list[StatementOfReasons]:
    """Statements not yet in the database, oldest first (held notices wait for their release)."""
    return list(
        session.scalars(
            select(StatementOfReasons)
            .where(StatementOfReasons.tdb_status == "pending", StatementOfReasons.notice_status != "held")
            .order_by(StatementOfReasons.created_at, StatementOfReasons.id)
            .limit(limit)
        )
    )


class TdbClient:
    """The Transparency Database API (the real HTTP client; tests point it at a local double)."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        self.timeout = timeout

    def submit(self, statements: list[dict[str, Any]]) -> httpx.Response:
        if not 1 <= len(statements) <= dsa.MAX_BATCH:
            raise ValueError(f"a batch holds 1 to {dsa.MAX_BATCH} statements")
        with outbound.guarded_client(timeout=self.timeout) as c:
            return c.post(f"{self.base_url}/api/v1/statements", json={"statements": statements}, headers=self._headers)

    def exists(self, puid: str) -> bool:
        with outbound.guarded_client(timeout=self.timeout) as c:
            r = c.get(f"{self.base_url}/api/v1/statement/existing-puid/{puid}", headers=self._headers)
        return r.status_code == 302


def submit_pending(session: Session, client: TdbClient, *, batch_size: int = dsa.MAX_BATCH) -> dict[str, int]:
    """Submit one batch of pending statements; returns counts. Raises RetryLater on transient errors."""
    rows = pending(session, min(batch_size, dsa.MAX_BATCH))
    counts = {"submitted": 0, "rejected": 0, "remaining": 0}
    if not rows:
        return counts
    invalid = {r.id: validate(r.fields) for r in rows}
    for r in rows:
        if invalid[r.id]:
            r.tdb_status, r.tdb_error = "rejected", {"local": invalid[r.id]}
            counts["rejected"] += 1
    rows = [r for r in rows if not invalid[r.id]]
    if not rows:
        return counts
    try:
        resp = client.submit([r.fields for r in rows])
    except httpx.HTTPError as exc:
        raise RetryLater(f"transparency database unreachable: {outbound.failure_category(exc)}", 60.0) from None
    if resp.status_code == 201:
        stored = {s.get("puid"): s for s in (resp.json().get("statements") or [])}
        for r in rows:
            r.tdb_status = "submitted"
            r.tdb_uuid = (stored.get(r.puid) or {}).get("uuid")
            r.tdb_submitted_at = now()
            counts["submitted"] += 1
    elif resp.status_code == 422:
        errors = (resp.json() or {}).get("errors") or {}
        for i, r in enumerate(rows):
            err = errors.get(f"statement_{i}")
            if not err:
                continue  # all-or-nothing: the valid ones are sent again in the next batch
            if isinstance(err, dict) and err.get("existing"):
                r.tdb_status, r.tdb_submitted_at = "submitted", now()
                r.tdb_uuid = (err.get("existing") or {}).get("uuid")
                counts["submitted"] += 1
            else:
                r.tdb_status, r.tdb_error = "rejected", {"remote": err}
                counts["rejected"] += 1
    elif resp.status_code == 401:
        raise RetryLater("the transparency database refused the token (401); generate a new one", 3600.0)
    else:
        raise RetryLater(f"the transparency database answered {resp.status_code}", 300.0)
    record_event(
        session,
        "dsa.statements_submitted",
        subject_type="tdb",
        subject_id="statements",
        actor="system:haven",
        data=dict(counts),
    )
    counts["remaining"] = len(pending(session, 1))
    return counts


def client_from_settings() -> TdbClient | None:
    s = get_enforce_settings()
    if not s.tdb_url or not s.tdb_token.get_secret_value():
        return None
    return TdbClient(s.tdb_url, s.tdb_token.get_secret_value())


def schedule(session: Session) -> None:
    """Queue a submission shortly (statements made in the same minute go in one batch)."""
    if client_from_settings() is None:
        return
    enqueue(session, JOB_KIND, {}, dedupe_key=f"{JOB_KIND}:{now():%Y%m%d%H%M}", delay=30.0, max_attempts=1000)


@handler(JOB_KIND)
def _submit_job(db: Database, job: Job) -> None:
    client = client_from_settings()
    if client is None:
        return
    batch = get_enforce_settings().tdb_batch_size
    try:
        with db.session() as s:
            counts = submit_pending(s, client, batch_size=batch)
    except RetryLater as exc:
        raise RetryLater(str(exc), max(exc.delay, backoff_seconds(job.attempts, 30.0, 3600.0))) from None
    if counts["remaining"]:
        with db.session() as s:
            enqueue(s, JOB_KIND, {}, dedupe_key=f"{JOB_KIND}:{job.id}:next")
