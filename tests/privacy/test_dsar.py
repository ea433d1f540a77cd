"""Data-subject requests over the real API: the access export holds exactly the declared
personal fields (minus the withheld ones, each with its reason), and an erasure leaves a
preserved CyberTipline report and its evidence intact and says so. Both are audited."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from haven.accounts.models import Account
from haven.classify.models import ConversationMessage
from haven.core.db import Base, Database
from haven.core.models import AuditRecord
from haven.cybertip.models import ReportCase
from haven.evidence.models import EvidenceObject
from haven.legal.models import LegalRequest
from haven.privacy.inventory import by_table
from haven.screening.models import ContentItem
from haven.signals.stand_ins import synthetic_picture
from tests.conftest import LiveServer, make_key


def _jpeg(seed: int) -> bytes:
    buf = io.BytesIO()
    synthetic_picture(seed).save(buf, format="JPEG")
    return buf.getvalue()


def _appear_everywhere(c: httpx.Client, account: str, other: str) -> None:
    assert c.put(f"/v1/accounts/{account}", json={"age_band": "13_15"}).status_code == 200
    assert c.post(f"/v1/accounts/{account}/blocks", json={"blocked": "someone-else"}).status_code in (200, 201)
    for sender, recipient, text in ((other, account, "hi there"), (account, other, "hello back")):
        r = c.post(
            "/v1/messages",
            json={"conversation_id": f"conv-{account}", "sender": sender, "recipients": [recipient], "text": text},
        )
        assert r.status_code in (200, 201), r.text
    meta = {"uploader": account, "external_id": f"up-{account}"}
    r = c.post("/v1/content", files={"file": ("a.jpg", _jpeg(3))}, data={"metadata": json.dumps(meta)})
    assert r.status_code in (200, 201), r.text
    r = c.post(
        "/v1/reports",
        json={
            "reporter": {"id": account, "name": "A Reporter", "email": "reporter@example.org"},
            "target": {"type": "account", "id": other},
            "category": "other",
            "explanation": "rude",
            "good_faith": True,
        },
    )
    assert r.status_code in (200, 201, 202), r.text
    signal = {
        "method": "facial_estimation",
        "provider": "estimator-double",
        "level": "standard",
        "age_band": "13_15",
        "observed_at": "2026-11-30T10:00:00Z",
    }
    r = c.post(f"/v1/accounts/{account}/age-signals", json=signal)
    assert r.status_code == 201, r.text
    assert c.put(f"/v1/accounts/{account}/connections/{other}", json={"kind": "friend"}).status_code in (200, 201)


def _expected_keys(table: str) -> set[str]:
    decl = by_table()[table]
    pk = {c.name for c in Base.metadata.tables[table].primary_key.columns}
    return pk | (set(decl.personal) - set(decl.withheld))


def test_access_export_holds_exactly_the_declared_fields(server: LiveServer, db: Database) -> None:
    key = make_key(db, ["intake", "accounts", "privacy"])
    with server.client(key) as c:
        _appear_everywhere(c, "kid-1", "adult-1")
        with db.session() as s:
            s.add(
                LegalRequest(
                    kind="subpoena",
                    agency="Agency",
                    requester_name="Officer",
                    requester_email="o@agency.example",
                    reference="R-1",
                    targets=["kid-1"],
                    received_at=datetime.now(UTC),
                    created_by="staff:legal",
                )
            )
        r = c.post("/v1/accounts/kid-1/dsar")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        no_scope = make_key(db, ["intake"])
        with server.client(no_scope) as other:
            refused = other.post("/v1/accounts/kid-1/dsar")
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "missing_scope"
    data = body["data"]
    for table in (
        "accounts",
        "account_blocks",
        "conversation_messages",
        "conversations",
        "content_items",
        "user_reports",
    ):
        assert table in data, (table, sorted(data))
    for table, rows in data.items():
        for row in rows:
            assert set(row) == _expected_keys(table), (table, set(row) ^ _expected_keys(table))
    # Only the requester's own messages: the other participant's text is another person's.
    assert [m["text"] for m in data["conversation_messages"]] == ["hello back"]
    assert data["user_reports"][0]["reporter_email"] == "reporter@example.org"
    assert data["content_items"][0]["external_id"] == "up-kid-1"
    # The law-enforcement request is neither given nor confirmed, but the class is named with its reason.
    assert "legal_requests" not in data
    withheld = {(w["table"], w["field"]): w["reason"] for w in body["withheld"]}
    assert "law-enforcement secrecy" in withheld[("legal_requests", "*")]
    assert "CyberTipline" in withheld[("report_cases", "*")]
    assert "tipping-off" in withheld[("finance_sar_exports", "*")]  # declared by finance, not listed here
    with db.session() as s:
        rec = s.scalars(select(AuditRecord).where(AuditRecord.action == "privacy.dsar_access")).one()
        assert rec.object_id == "kid-1" and rec.actor.startswith("integration:")


def test_erasure_keeps_a_preserved_report_and_its_evidence_and_says_so(
    server: LiveServer, db: Database, tmp_path: Path
) -> None:
    key = make_key(db, ["intake", "accounts", "privacy"])
    with server.client(key) as c:
        _appear_everywhere(c, "reported-1", "kid-2")
        _appear_everywhere(c, "plain-1", "kid-3")
        with db.session() as s:
            case = ReportCase(
                status="submitted",
                category="grooming",
                incident_type="Online Enticement of Children",
                incident_at=datetime.now(UTC),
                subject_type="account",
                subject_id="reported-1",
                created_by="staff:rep",
                ncmec_report_id="123456",
                finished_at=datetime.now(UTC),
                reported_account={"id": "reported-1"},
            )
            s.add(case)
            s.flush()
            content_id = s.scalars(select(ContentItem.id).where(ContentItem.uploader == "reported-1")).one()
            case.content_ids = [content_id]
            evidence_file = tmp_path / "evidence.bin"
            evidence_file.write_bytes(b"sealed stand-in")
            s.add(
                EvidenceObject(
                    case_id=case.id,
                    content_id=content_id,
                    account_id="reported-1",
                    kind="media",
                    file_name="a.jpg",
                    size_bytes=15,
                    sha256="2" * 64,
                    path=str(evidence_file),
                    key_provider="local",
                    key_id="k",
                    created_by="system",
                )
            )
            case_id = case.id
        kept = c.post("/v1/accounts/reported-1/erasure")
        plain = c.post("/v1/accounts/plain-1/erasure")
    assert kept.status_code == 200 and plain.status_code == 200
    k, p = kept.json(), plain.json()
    assert p["complete"] is True and p["kept"] == []
    assert p["erased"]["accounts"] == {"deleted": 1}
    assert p["erased"]["conversation_messages"] == {"deleted": 1}
    assert k["complete"] is False
    kept_tables = {e["table"]: e["reasons"] for e in k["kept"]}
    assert kept_tables["report_cases"] == ["preserved_report"]
    assert kept_tables["evidence_objects"] == ["preserved_report"]
    assert kept_tables["content_items"] == ["preserved_report"]
    assert "accounts" in k["erased"]  # what the report does not need still goes
    with db.session() as s:
        case = s.get(ReportCase, case_id)
        assert case is not None and case.subject_id == "reported-1" and case.ncmec_report_id == "123456"
        ev = s.scalars(select(EvidenceObject).where(EvidenceObject.case_id == case_id)).one()
        assert ev.account_id == "reported-1" and ev.destroyed_at is None and Path(ev.path).exists()
        assert s.scalars(select(ContentItem).where(ContentItem.uploader == "reported-1")).one() is not None
        assert s.get(Account, "reported-1") is None and s.get(Account, "plain-1") is None
        assert s.scalars(select(ConversationMessage).where(ConversationMessage.sender == "plain-1")).all() == []
        audits = s.scalars(select(AuditRecord).where(AuditRecord.action == "privacy.erasure")).all()
        assert {a.object_id for a in audits} == {"reported-1", "plain-1"}


def test_access_shows_the_ledger_events_the_person_is_told_and_erasure_pseudonymises_them(
    server: LiveServer, db: Database
) -> None:
    """The ledger is searched too: events the catalogue marks `disclosed` (age results,
    protections, connections...) are in the export without their actor; events about detection
    and reports are withheld as a class; an erasure pseudonymises the account's events."""
    from haven.core.events import CATALOGUE
    from haven.core.ledger import record_event
    from haven.core.models import Event

    key = make_key(db, ["intake", "accounts", "privacy"])
    with server.client(key) as c:
        _appear_everywhere(c, "kid-5", "adult-5")
        with db.session() as s:  # an event about the account that must not be shown to it
            record_event(
                s,
                "notice_hold.placed",
                subject_type="account",
                subject_id="kid-5",
                actor="staff:legal",
                data={"hold_id": "h1", "until": None},
            )
        body = c.post("/v1/accounts/kid-5/dsar").json()
        ledger = body["ledger"]
        types = [e["type"] for e in ledger]
        assert "age.signal_received" in types and "youth.connection_set" in types, types
        assert all(CATALOGUE[t].disclosed for t in types)
        assert "notice_hold.placed" not in types
        assert all(set(e) == {"id", "type", "at", "data"} for e in ledger)  # never the actor
        assert "staff:legal" not in json.dumps(body)
        assert any(w["table"] == "events" and "GDPR Art. 23" in w["reason"] for w in body["withheld"])
        with db.session() as s:
            before = s.scalars(select(Event).where(Event.subject_id == "kid-5")).all()
            assert len(before) > len(ledger)
        erased = c.post("/v1/accounts/kid-5/erasure").json()
    assert erased["erased"]["events"] == {"pseudonymised": len(before)}
    with db.session() as s:
        assert s.scalars(select(Event).where(Event.subject_id == "kid-5")).all() == []
        left = s.scalars(select(Event).where(Event.id.in_([e.id for e in before]))).all()
        assert len(left) == len(before)  # the counts stay
        assert all(e.subject_id.startswith("pseud") and not e.actor.startswith("staff:") for e in left)
