"""A confirmed grooming or sextortion conversation becomes a complete CyberTipline case by itself:
messages over HTTP -> flagged -> review task -> a reviewer's decision -> draft case with the
intended recipients, the proposed victim and the conversation CSV preserved -> finished report."""

from __future__ import annotations

import csv
import hashlib
import io

import pytest
from lxml import etree
from sqlalchemy import select

from haven.core.db import Database
from haven.core.models import AuditRecord, Event
from haven.core.settings import Settings
from haven.cybertip import cases
from haven.cybertip.config import cybertip_settings
from haven.cybertip.models import ReportCase, ReportFile
from haven.cybertip.xml import SHIPPED_XSD, validation_errors
from haven.evidence.models import EvidenceObject
from haven.evidence.vault import Vault
from haven.review import service as review
from haven.review.models import ReviewTask
from tests.conftest import LiveServer
from tests.cybertip.fixtures import LEGAL, LiveDouble, case_for, configure, run_jobs
from tests.review.fixtures import make_staff, reviewer

GROOMER = [
    "hey i saw ur drawing, ur really talented",
    "how old r u btw?",
    "ur so mature for ur age",
    "do ur parents check ur phone?",
    "add me on sn@pchat its more private",
    "dont tell anyone we talk ok? its our secret",
]
SEXTORTION = ["i have ur pics", "pay me $200 in steam cards or i will send them to all ur friends"]


def _msg(conv: str, sender: str, to: list[str], text: str, i: int) -> dict:
    return {
        "message_id": f"{conv}-{i}",
        "conversation_id": conv,
        "sender": sender,
        "recipients": to,
        "text": text,
        "sent_at": f"2026-11-21T10:{i:02d}:00Z",
    }


def _decide_conversation(db: Database, settings: Settings, conv_id: str, category: str) -> str:
    """A trained child-safety reviewer takes the conversation's task and confirms the violation."""
    staff_id, _ = make_staff(db, f"rev-{conv_id}@example.org", ["child_safety_reviewer"])
    who = reviewer(db, staff_id)
    with db.session() as s:
        task = s.scalar(
            select(ReviewTask).where(ReviewTask.subject_type == "conversation", ReviewTask.subject_id == conv_id)
        )
        assert task is not None and task.queue == "grooming"
        task_id = task.id
    with db.session() as s:
        assert review.claim(s, task_id, who)
    with db.session() as s:
        task = s.get(ReviewTask, task_id)
        assert task is not None
        return review.decide(s, settings, task, who, decision="violation", category=category).id


def _finish(db: Database, settings: Settings, case_id: str) -> None:
    with db.session() as s:
        cases.queue_submission(s, settings, case_id, LEGAL, cybertip_settings())
    run_jobs(db)
    with db.session() as s:
        case = s.get(ReportCase, case_id)
        assert case is not None and case.status == "finished", case.error_message


def test_grooming_conversation_case_is_complete_and_reported(
    server: LiveServer,
    api_key: str,
    db: Database,
    settings: Settings,
    double: LiveDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(monkeypatch, settings, double)
    with server.client(api_key) as c:
        assert c.put("/v1/accounts/man-1", json={"age_band": "adult"}).status_code == 200
        assert c.put("/v1/accounts/kid-1", json={"age_band": "13_15"}).status_code == 200
        assert c.put("/v1/accounts/kid-2", json={"age_band": "under_13"}).status_code == 200
        for i, text in enumerate(GROOMER, 1):
            assert c.post("/v1/messages", json=_msg("conv-g", "man-1", ["kid-1"], text, i)).status_code == 200
        assert c.post("/v1/messages", json=_msg("conv-g", "kid-1", ["man-1"], "ok", 9)).status_code == 200
        # Another conversation of the same sender: never part of this case (data minimisation).
        r = c.post("/v1/messages", json=_msg("conv-other", "man-1", ["kid-2"], "see you at the club tomorrow", 1))
        assert r.status_code == 200
    run_jobs(db)  # conversation.flagged -> review task
    decision_id = _decide_conversation(db, settings, "conv-g", "grooming")
    run_jobs(db)  # review.decision -> draft case
    case_id = case_for(db, decision_id)

    with db.session() as s:
        case = s.get(ReportCase, case_id)
        assert case is not None and case.status == "draft"
        assert case.subject_type == "conversation" and case.subject_id == "conv-g"
        assert case.reported_account == {"esp_identifier": "man-1"}
        assert case.recipients == [{"esp_identifier": "kid-1"}]
        assert case.victims == [{"esp_identifier": "kid-1"}]  # age left for staff to fill
        # Incident time: the first message on which a behaviour fired (the second, "how old r u").
        assert case.incident_at.isoformat() == "2026-11-21T10:02:00+00:00"
        assert [r["text"] for r in case.conversation] == [*GROOMER, "ok"]
        assert case.conversation[0] == {
            "sent_at": "2026-11-21T10:01:00+00:00",
            "sender": "man-1",
            "recipient": "kid-1",
            "text": GROOMER[0],
        }
        # Preserved in the vault at once, the same bytes as the CSV that will be sent.
        (obj,) = s.scalars(
            select(EvidenceObject).where(EvidenceObject.case_id == case_id, EvidenceObject.kind == "conversation")
        ).all()
        stored = Vault.from_settings(settings).read(s, obj.id, actor=LEGAL, purpose="test: check the preserved CSV")
        assert stored == cases.conversation_csv(case.conversation)
        assert "see you at the club" not in stored.decode()
        (attached,) = s.scalars(
            select(Event).where(Event.type == "report.conversation_attached", Event.subject_id == case_id)
        ).all()
        assert attached.actor == "system:haven"
        assert attached.data["source"] == "system" and attached.data["evidence_object_id"] == obj.id
        assert attached.data["conversation_id"] == "conv-g" and attached.data["rows"] == 7
        reads = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "conversation.read", AuditRecord.actor == "system:haven")
        ).all()
        assert [(r.object_id, (r.details or {}).get("case_id")) for r in reads] == [("conv-g", case_id)]

    # Redelivering the decision opens nothing more and attaches nothing twice.
    with db.session() as s:
        ev = s.scalar(select(Event).where(Event.type == "review.decision"))
        assert ev is not None
        assert cases.open_from_decision(s, settings, ev).id == case_id  # type: ignore[union-attr]
        assert len(s.scalars(select(EvidenceObject).where(EvidenceObject.kind == "conversation")).all()) == 1

    _finish(db, settings, case_id)
    with db.session() as s:
        (row,) = s.scalars(select(ReportFile).where(ReportFile.case_id == case_id)).all()
        assert row.kind == "conversation" and row.evidence_object_id == obj.id  # the preserved object is sent
    (report,) = double.state.finished()
    assert validation_errors(report.xml.encode(), SHIPPED_XSD) == []
    root = etree.fromstring(report.xml.encode())
    assert root.findtext("incidentSummary/incidentType") == "Online Enticement of Children for Sexual Acts"
    assert root.findtext("incidentSummary/incidentDateTime").startswith("2026-11-21T10:02:00")  # type: ignore[union-attr]
    assert root.find("internetDetails/chatImIncident") is not None
    assert root.findtext("personOrUserReported/espIdentifier") == "man-1"
    assert [e.findtext("espIdentifier") for e in root.findall("intendedRecipient")] == ["kid-1"]
    assert [v.findtext("espIdentifier") for v in root.findall("victim")] == ["kid-1"]
    (f,) = report.files.values()
    assert f.name == f"conversation-{case_id}.csv"
    d = etree.fromstring((f.details or "").encode())
    assert validation_errors((f.details or "").encode(), SHIPPED_XSD) == []
    assert d.findtext("fileRelevance") == "Supplemental Reported"
    assert d.find("industryClassification") is None
    # The bytes NCMEC received are the preserved CSV (the double keeps their MD5 and size).
    assert (f.md5, f.size) == (hashlib.md5(stored).hexdigest(), len(stored))
    sent = list(csv.DictReader(io.StringIO(stored.decode())))
    assert [r["text"] for r in sent] == [*GROOMER, "ok"] and sent[-1]["sender"] == "kid-1"


def test_sextortion_conversation_carries_the_annotation_and_every_counterpart(
    server: LiveServer,
    api_key: str,
    db: Database,
    settings: Settings,
    double: LiveDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(monkeypatch, settings, double)
    with server.client(api_key) as c:
        assert c.put("/v1/accounts/teen-9", json={"age_band": "16_17"}).status_code == 200
        assert c.put("/v1/accounts/mum-9", json={"age_band": "adult"}).status_code == 200
        # A group chat: the teen and an adult receive the threat; only the minor is a proposed victim.
        for i, text in enumerate(SEXTORTION, 1):
            r = c.post("/v1/messages", json=_msg("conv-s", "stranger", ["teen-9", "mum-9"], text, i))
            assert r.status_code == 200
    run_jobs(db)
    decision_id = _decide_conversation(db, settings, "conv-s", "sextortion")
    run_jobs(db)
    case_id = case_for(db, decision_id)
    with db.session() as s:
        case = s.get(ReportCase, case_id)
        assert case is not None
        assert case.reported_account == {"esp_identifier": "stranger"}
        assert case.recipients == [{"esp_identifier": "teen-9"}, {"esp_identifier": "mum-9"}]
        assert case.victims == [{"esp_identifier": "teen-9"}]
        assert case.annotations == ["sextortion"]
        assert [r["recipient"] for r in case.conversation] == ["teen-9; mum-9"] * 2
        assert [r["text"] for r in case.conversation] == SEXTORTION
        rows = list(case.conversation)
    _finish(db, settings, case_id)
    (report,) = double.state.finished()
    assert validation_errors(report.xml.encode(), SHIPPED_XSD) == []
    root = etree.fromstring(report.xml.encode())
    assert root.find("incidentSummary/reportAnnotations/sextortion") is not None
    assert sorted(e.findtext("espIdentifier") for e in root.findall("intendedRecipient")) == ["mum-9", "teen-9"]
    assert [v.findtext("espIdentifier") for v in root.findall("victim")] == ["teen-9"]
    (f,) = report.files.values()
    assert f.md5 == hashlib.md5(cases.conversation_csv(rows)).hexdigest()


def test_minor_bands_are_the_declared_ones() -> None:
    from haven.accounts.models import AGE_BANDS

    assert {b for b in AGE_BANDS if b in cases.MINOR_BANDS} == {"under_13", "13_15", "16_17"}
    assert set(AGE_BANDS) >= cases.MINOR_BANDS
