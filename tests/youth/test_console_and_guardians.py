"""The youth console (account age page with override and purge, the dashboard), guardian
approvals (purchase above the cap, loosening a default for an under-16), the weekly digest, and
the practice statement generated from the configuration."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from haven.core.db import Database
from haven.core.models import AuditRecord, Event
from haven.enforce.models import Delivery
from haven.evidence.models import LegalHold
from haven.youth.models import AgeSignal
from haven.youth.practice import statement
from tests.conftest import LiveServer
from tests.review.console_client import ConsoleClient
from tests.review.fixtures import PASSWORD, make_staff

ID_13 = {
    "method": "id_document",
    "provider": "acme",
    "level": "enhanced",
    "age_band": "13_15",
    "observed_at": "2026-12-01T10:00:00Z",
}


def test_console_override_and_purge(server: LiveServer, db: Database, api_key: str) -> None:
    c = server.client(api_key)
    assert c.post("/v1/accounts/t1/age-signals", json=ID_13).status_code == 201
    _, secret = make_staff(db, "admin@example.org", ["admin"], trained=False)
    _, rsecret = make_staff(db, "rev@example.org", ["reviewer"], trained=False)
    admin, rev = ConsoleClient(server.url), ConsoleClient(server.url)
    admin.sign_in("admin@example.org", PASSWORD, secret)
    rev.sign_in("rev@example.org", PASSWORD, rsecret)
    assert rev.get("/console/youth/accounts/t1").status_code == 403
    page = admin.get("/console/youth/accounts/t1")
    assert page.status_code == 200 and "id_document" in page.text and "enhanced" in page.text
    dash = admin.get("/console/youth")
    assert dash.status_code == 200 and "Re-assurance pending" in dash.text
    assert (
        admin.post(
            "/console/youth/accounts/t1/override", {"age_band": "16_17", "level": "strict", "reason": ""}
        ).status_code
        == 422
    )
    r = admin.post(
        "/console/youth/accounts/t1/override",
        {"age_band": "16_17", "level": "strict", "reason": "passport seen at the help desk"},
    )
    assert r.status_code in (200, 303), r.text
    age = c.get("/v1/accounts/t1/age").json()
    assert (age["age_band"], age["level"], age["method"]) == ("16_17", "strict", "staff_override")
    count = select(func.count()).select_from(AgeSignal).where(AgeSignal.account_id == "t1")
    with db.session() as s:
        before = s.scalar(count)
        s.add(LegalHold(account_id="t1", reason="preservation request", created_by="staff:legal"))
    assert before
    held = admin.post("/console/youth/accounts/t1/purge", {"reason": "user asked for erasure"})
    assert held.status_code == 409 and "legal_hold" in held.text, held.text
    with db.session() as s:
        assert s.scalar(count) == before
        for hold in s.scalars(select(LegalHold).where(LegalHold.account_id == "t1")):
            hold.released_at = datetime.now(UTC)
    r = admin.post("/console/youth/accounts/t1/purge", {"reason": "user asked for erasure"})
    assert r.status_code in (200, 303)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AgeSignal).where(AgeSignal.account_id == "t1")) == 0
        types = set(s.scalars(select(Event.type).where(Event.subject_id == "t1")))
        actions = set(s.scalars(select(AuditRecord.action).where(AuditRecord.object_id == "t1")))
    assert {"age.override", "age.purged"} <= types and {"age.override", "age.purge", "youth.age_view"} <= actions


def test_guardian_approvals_and_digest(server: LiveServer, db: Database, api_key: str) -> None:
    c = server.client(api_key)
    c.post("/v1/accounts/t2/age-signals", json=ID_13)
    g = c.post("/v1/guardianships", json={"guardian_id": "dad", "teen_id": "t2"}).json()
    assert (
        c.post(
            f"/v1/guardianships/{g['id']}/approvals", json={"kind": "purchase", "amount": 500, "currency": "EUR"}
        ).status_code
        == 403
    )  # pending link
    c.post(f"/v1/guardianships/{g['id']}/confirm", json={"teen_id": "t2", "code": g["code"]})
    small = c.post(
        f"/v1/guardianships/{g['id']}/approvals", json={"kind": "purchase", "amount": 500, "currency": "EUR"}
    )
    assert small.status_code == 201 and small.json()["status"] == "not_required"
    big = c.post(
        f"/v1/guardianships/{g['id']}/approvals",
        json={"kind": "purchase", "amount": 9900, "currency": "EUR", "description": "game pass"},
    ).json()
    assert big["status"] == "pending"
    loosen = c.post(
        f"/v1/guardianships/{g['id']}/approvals",
        json={"kind": "loosen_default", "setting": "dm_from", "value": "everyone"},
    ).json()
    assert loosen["status"] == "pending"
    assert c.get("/v1/accounts/t2/protections").json()["settings"]["dm_from"] == "connections"
    wrong = c.post(f"/v1/guardianships/{g['id']}/approvals/{loosen['id']}", json={"guardian_id": "t2", "approve": True})
    assert wrong.status_code == 403
    ok = c.post(f"/v1/guardianships/{g['id']}/approvals/{loosen['id']}", json={"guardian_id": "dad", "approve": True})
    assert ok.json()["status"] == "approved"
    p = c.get("/v1/accounts/t2/protections").json()
    assert p["settings"]["dm_from"] == "everyone" and p["rules"]["dm_from"] == "override.dm_from"
    c.post(f"/v1/guardianships/{g['id']}/approvals/{big['id']}", json={"guardian_id": "dad", "approve": False})
    c.post("/v1/accounts/t2/activity", json={"kind": "purchase", "amount": 500, "currency": "EUR", "ref": "sticker"})
    c.post("/v1/accounts/t2/activity", json={"kind": "report_filed"})
    from haven.youth.guardians import send_digests

    with db.session() as s:
        assert send_digests(s) == 1
    with db.session() as s:
        assert send_digests(s) == 0  # once a week
        rows = {d.action_type: d.payload for d in s.scalars(select(Delivery))}
    assert rows["guardian.approval_requested"]["kind"] in ("purchase", "loosen_default")
    assert rows["guardian.approval_answered"]["status"] in ("approved", "declined")
    digest = rows["guardian.digest"]
    assert digest["reported_something"] is True and digest["purchases"][0]["item"] == "sticker"


def test_practice_statement_follows_the_configuration() -> None:
    text = statement()
    assert "| id_document (" in text and "| strict |" in text and "Never a document" in text
    assert "| GB | 13 | enhanced |" in text and "above 20.00 EUR" in text
