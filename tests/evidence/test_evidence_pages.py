"""The console's evidence page (roles `legal` and `admin`) over real HTTP: preserved objects per
case with retention and holds, placing and releasing holds with a reason (audited, in the ledger),
the custody record, and no bytes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from haven.core.db import Database
from haven.core.models import AuditRecord, Event
from haven.core.settings import Settings
from haven.evidence.models import EvidenceObject, LegalHold
from haven.evidence.vault import place_hold, release_hold
from tests.conftest import LiveServer
from tests.cybertip.fixtures import ADMIN, LiveDouble, case_for, configure, decide, make_item, run_jobs
from tests.review.conftest import _fast_argon2  # noqa: F401  (cheap argon2 for staff sign-in)
from tests.review.console_client import ConsoleClient, assert_accessible_form_controls
from tests.review.fixtures import PASSWORD, make_staff


def test_evidence_page_holds_and_custody(
    server: LiveServer, db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    with db.session() as s:
        item = make_item(s, settings, 71)
        decision_id = decide(s, [item.id])
    run_jobs(db)
    case_id = case_for(db, decision_id)
    with db.session() as s:
        obj = s.scalar(select(EvidenceObject).where(EvidenceObject.case_id == case_id))
        assert obj is not None
        object_id = obj.id
    admin_id, secret = make_staff(db, "admin@example.org", ["admin"])
    _, cs_secret = make_staff(db, "cs@example.org", ["child_safety_reviewer"])
    c = ConsoleClient(server.url)
    c.sign_in("admin@example.org", PASSWORD, secret)

    page = c.get("/console/evidence")
    assert page.status_code == 200
    assert_accessible_form_controls(page.text)
    row = re.search(rf'<tr data-object="{object_id}">(.*?)</tr>', page.text, re.S)
    assert row and "until the report is finished" in row.group(1) and 'data-holds="0"' in row.group(1)
    assert f'data-case="{case_id}"' in page.text
    assert "> an object</label>" in page.text and "a object" not in page.text and "> a case</label>" in page.text

    # Placing a hold: CSRF, validation shown inline, then done with its reason audited.
    form = {"scope": "case", "target": case_id, "reason": "Subpoena expected from the county"}
    assert c.post("/console/evidence/holds", {**form, "csrf_token": ""}).status_code == 403
    r = c.post("/console/evidence/holds", {**form, "reason": "", "target": "no-such-case"})
    assert r.status_code == 422
    assert 'id="err-reason"' in r.text and 'id="err-target"' not in r.text  # reason checked first
    r = c.post("/console/evidence/holds", {**form, "target": "no-such-case"})
    assert r.status_code == 422 and "No preserved material for case" in r.text
    assert c.post("/console/evidence/holds", form).status_code == 303
    with db.session() as s:
        (hold,) = s.scalars(select(LegalHold)).all()
        assert hold.case_id == case_id and hold.created_by == f"staff:{admin_id}"
        rec = s.scalar(select(AuditRecord).where(AuditRecord.action == "evidence.hold_place"))
        assert rec is not None and rec.purpose == form["reason"] and rec.object_id == hold.id
        hold_id = hold.id
    page = c.get("/console/evidence")
    row = re.search(rf'<tr data-object="{object_id}">(.*?)</tr>', page.text, re.S)
    assert row and 'data-holds="1"' in row.group(1)

    # The custody record: stored, no bytes offered.
    custody = c.get(f"/console/evidence/objects/{object_id}")
    assert custody.status_code == 200 and "evidence.store" in custody.text and form["reason"] in custody.text
    assert "download" not in custody.text.lower()

    # Releasing needs a reason too.
    r = c.post(f"/console/evidence/holds/{hold_id}/release", {"reason": ""})
    assert r.status_code == 422 and f'id="err-release-{hold_id}"' in r.text
    assert (
        c.post(f"/console/evidence/holds/{hold_id}/release", {"reason": "Case closed by the county"}).status_code == 303
    )
    with db.session() as s:
        h = s.get(LegalHold, hold_id)
        assert h is not None and h.released_by == f"staff:{admin_id}"
        rec = s.scalar(select(AuditRecord).where(AuditRecord.action == "evidence.hold_release"))
        assert rec is not None and rec.purpose == "Case closed by the county"
        ev = s.scalar(select(Event).where(Event.type == "evidence.hold_released"))
        assert ev is not None and ev.data == {"reason": "Case closed by the county"}

    cs = ConsoleClient(server.url)
    cs.sign_in("cs@example.org", PASSWORD, cs_secret)
    assert cs.get("/console/evidence").status_code == 403
    assert cs.post("/console/evidence/holds", form).status_code == 403


def test_hold_reasons_are_audited(db: Database) -> None:
    with db.session() as s:
        hold = place_hold(s, actor=ADMIN, reason="keep it", account_id="u-9")
        hold_id = hold.id
    with db.session() as s:
        release_hold(s, hold_id, actor=ADMIN, reason="request withdrawn")
        release_hold(s, hold_id, actor=ADMIN, reason="twice")  # already released: nothing more
    with db.session() as s:
        rows = [
            (a.action, a.purpose)
            for a in s.scalars(select(AuditRecord).order_by(AuditRecord.created_at, AuditRecord.id))
        ]
    assert rows == [("evidence.hold_place", "keep it"), ("evidence.hold_release", "request withdrawn")]
