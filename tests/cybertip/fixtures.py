"""Shared helpers of the reporting, evidence and legal tests: a real double of the CyberTipline
on a loopback port, benign content items in quarantine, and review decisions."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from sqlalchemy.orm import Session

from haven.accounts.service import touch_account
from haven.core.actors import Actor
from haven.core.db import Database
from haven.core.ledger import record_event
from haven.core.settings import Settings, get_settings
from haven.cybertip.double import DoubleState, create_double
from haven.screening import quarantine
from haven.screening.models import ContentItem
from haven.screening.signals import compute_signals
from haven.signals.stand_ins import synthetic_picture
from tests.conftest import free_port

LEGAL = Actor("staff", "legal1", frozenset({"legal"}))
REVIEWER = Actor("staff", "rev1", frozenset({"child_safety_reviewer"}))
ADMIN = Actor("staff", "admin1", frozenset({"admin"}))


@dataclass
class LiveDouble:
    url: str
    state: DoubleState
    server: uvicorn.Server


def start_double(username: str = "haven-test", password: str = "s3cret-test") -> Iterator[LiveDouble]:
    app = create_double(username, password)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the double did not start")
        time.sleep(0.02)
    yield LiveDouble(f"http://127.0.0.1:{port}/ispws", app.state.double, srv)
    srv.should_exit = True
    thread.join(timeout=10)


def configure(monkeypatch: pytest.MonkeyPatch, settings: Settings, double: LiveDouble, **extra: str) -> None:
    """Point the process settings (read by worker handlers) at the test's folder and the double."""
    env = {
        "HAVEN_VAR_DIR": str(settings.var_dir),
        "HAVEN_CYBERTIP_URL": double.url,
        "HAVEN_CYBERTIP_USERNAME": double.state.username,
        "HAVEN_CYBERTIP_PASSWORD": double.state.password,
        "HAVEN_CYBERTIP_ENVIRONMENT": "test",
        "HAVEN_CYBERTIP_REPORTER_EMAIL": "trust-safety@example.org",
        "HAVEN_CYBERTIP_PLATFORM": "Example Chat",
        "HAVEN_CYBERTIP_TIMEOUT_SECONDS": "2",
        **extra,
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()


def jpeg(seed: int) -> bytes:
    buf = io.BytesIO()
    synthetic_picture(seed, (320, 240)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def make_item(
    s: Session,
    settings: Settings,
    seed: int,
    *,
    uploader: str = "user-offender",
    recipients: list[str] | None = None,
    ip: str = "203.0.113.7",
) -> ContentItem:
    """A benign generated picture stored as a blocked item with its quarantine object."""
    from datetime import timedelta

    from haven.core.clock import new_id, now

    data = jpeg(seed)
    sig = compute_signals(data, settings)
    touch_account(s, uploader)
    item = ContentItem(
        id=new_id(),
        integration_id="int-test",
        external_id=f"upload-{seed}.jpg",
        media_kind="image",
        content_type="image/jpeg",
        uploader=uploader,
        surface="dm",
        recipients=recipients or ["user-child"],
        created_at=now() - timedelta(minutes=30),
        ip=ip,
        size_bytes=len(data),
        md5=sig.md5,
        sha1=sig.sha1,
        sha256=sig.sha256,
        pdq=sig.image.pdq if sig.image else None,
        verdict="block",
        verdict_rule="test",
    )
    s.add(item)
    s.flush()
    obj = quarantine.put(s, settings, content_id=item.id, data=data, content_type="image/jpeg")
    item.quarantine_id = obj.id
    s.flush()
    return item


def reveal(s: Session, settings: Settings, item: ContentItem, actor: str = "staff:rev1") -> None:
    """What the review console does when a reviewer reveals the media: a recorded view."""
    assert item.quarantine_id
    quarantine.read(s, settings, item.quarantine_id, actor=actor, purpose="review", action=quarantine.VIEW)


def decide(
    s: Session,
    content_ids: list[str],
    *,
    category: str = "csam",
    decision: str = "violation",
    classification: str | None = "A1",
    annotations: list[str] | None = None,
    uploader: str = "user-offender",
    decision_id: str | None = None,
    automated: bool = False,
    overturns: str | None = None,
    subject_type: str = "content",
) -> str:
    from haven.core.clock import new_id

    decision_id = decision_id or new_id()
    data: dict[str, Any] = {
        "decision_id": decision_id,
        "task_id": new_id(),
        "queue": "child_safety",
        "decision": decision,
        "category": category,
        "classification": classification,
        "annotations": annotations or [],
        "reviewer": "staff:rev1",
        "uploader": uploader,
        "content_ids": content_ids,
        "automated": automated,
        "overturns": overturns,
    }
    record_event(
        s,
        "review.decision",
        subject_type=subject_type,
        subject_id=content_ids[0] if content_ids and subject_type == "content" else uploader,
        actor="staff:rev1",
        data=data,
    )
    return decision_id


def case_for(db: Database, decision_id: str) -> str:
    from sqlalchemy import select

    from haven.cybertip.models import ReportCase

    with db.session() as s:
        case_id = s.scalar(select(ReportCase.id).where(ReportCase.decision_id == decision_id))
    assert case_id is not None, "no report case was opened"
    return case_id


def run_jobs(db: Database, strict: bool = True) -> None:
    """Work the queue; strict: fail loudly with the handler's error if a job did not complete
    (retries asked for by the machine included)."""
    from sqlalchemy import select

    from haven.core import jobs
    from haven.core.models import Job
    from haven.worker import load_handlers

    load_handlers()  # what `haven worker` does at start
    jobs.work(db, once=True)
    with db.session() as s:
        # Webhook deliveries of enforcement fail here by design (no service endpoint is configured
        # in these tests); they are enforcement's concern and tested there.
        failed = select(Job).where(Job.last_error.is_not(None), Job.kind != "enforce.deliver")
        errors = [f"{j.kind}: {j.last_error}" for j in s.scalars(failed)]
    if strict:
        assert not errors, errors
