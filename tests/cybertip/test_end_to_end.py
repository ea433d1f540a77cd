"""A confirmed review decision becomes a finished CyberTipline report at the local double."""

from __future__ import annotations

import pytest
from lxml import etree
from sqlalchemy import select

from haven.core.db import Database
from haven.core.models import Event
from haven.core.settings import Settings
from haven.cybertip import cases
from haven.cybertip.config import cybertip_settings
from haven.cybertip.models import ReportCase, ReportFile, TiplineCall
from haven.cybertip.xml import SHIPPED_XSD, validation_errors
from haven.evidence.models import EvidenceObject
from haven.screening import quarantine
from tests.cybertip.fixtures import (
    LEGAL,
    REVIEWER,
    LiveDouble,
    case_for,
    configure,
    decide,
    make_item,
    reveal,
    run_jobs,
)

REPORT_ORDER = [
    "incidentSummary",
    "internetDetails",
    "lawEnforcement",
    "reporter",
    "personOrUserReported",
    "intendedRecipient",
    "victim",
    "additionalInfo",
]
FILE_ORDER = [
    "reportId",
    "fileId",
    "fileName",
    "originalFileName",
    "uploadedToEspTimestamp",
    "locationOfFile",
    "fileViewedByEsp",
    "exifViewedByEsp",
    "publiclyAvailable",
    "fileRelevance",
    "fileAnnotations",
    "industryClassification",
    "originalFileHash",
    "ipCaptureEvent",
    "deviceId",
    "details",
    "additionalInfo",
]


def in_order(tags: list[str], order: list[str]) -> bool:
    idx = [order.index(t) for t in tags]
    return idx == sorted(idx)


def test_decision_to_finished_report(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    with db.session() as s:
        seen = make_item(s, settings, 1, recipients=["user-child"])
        unseen = make_item(s, settings, 2, recipients=["user-child", "user-other"])
        reveal(s, settings, seen)  # a reviewer revealed only the first file
        # ...and saw the second only as the console's blurred, greyscale preview: not a view.
        assert unseen.quarantine_id
        quarantine.read(
            s,
            settings,
            unseen.quarantine_id,
            actor="staff:rev1",
            purpose="review.preview_blurred",
            action=quarantine.PREVIEW,
        )
        decision_id = decide(s, [seen.id, unseen.id], annotations=["viral"])
        seen_id, unseen_id = seen.id, unseen.id
        hashes = {
            seen.id: (seen.md5, seen.sha1, seen.sha256, seen.pdq),
            unseen.id: (unseen.md5, unseen.sha1, unseen.sha256, unseen.pdq),
        }
    run_jobs(db)
    case_id = case_for(db, decision_id)

    with db.session() as s:
        case = s.get(ReportCase, case_id)
        assert case is not None and case.status == "draft"
        assert case.incident_type == "Child Pornography (possession, manufacture, and distribution)"
        # Both items were preserved in the vault when the case opened.
        objs = s.scalars(select(EvidenceObject).where(EvidenceObject.case_id == case_id)).all()
        assert {o.content_id for o in objs} == {seen_id, unseen_id}
        cases.escalate(s, case_id, REVIEWER, "The child is being contacted right now.")
        cases.update_case(s, case_id, LEGAL, {"victims": [{"esp_identifier": "user-child", "age": 12}]})
        cases.queue_submission(s, settings, case_id, LEGAL, cybertip_settings())
    run_jobs(db)

    with db.session() as s:
        case = s.get(ReportCase, case_id)
        assert case is not None
        assert case.status == "finished", case.error_message
        assert case.ncmec_report_id
        report_id = case.ncmec_report_id
        rows = select(TiplineCall).where(TiplineCall.case_id == case_id).order_by(TiplineCall.created_at)
        calls = s.scalars(rows).all()
        assert [e.endpoint for e in calls] == ["submit", "upload", "fileinfo", "upload", "fileinfo", "finish"]
        assert all(e.request_id and e.response_code == 0 for e in calls)
        files = {f.content_id: f for f in s.scalars(select(ReportFile).where(ReportFile.case_id == case_id))}
        assert files[seen_id].views and files[seen_id].views[0]["actor"] == "staff:rev1"
        types = [e.type for e in s.scalars(select(Event).where(Event.subject_id == case_id))]
        assert "report.finished" in types and "report.opened" in types
        retained = s.scalars(select(EvidenceObject).where(EvidenceObject.case_id == case_id)).all()
        assert {o.kind for o in retained} == {"media", "report_xml", "receipt"}
        assert all(o.retain_until is not None for o in retained)

    finished = double.state.finished()
    assert len(finished) == 1 and finished[0].report_id == report_id
    report = finished[0]
    # The report XML is valid and in schema order, with what the case holds.
    assert validation_errors(report.xml.encode(), SHIPPED_XSD) == []
    root = etree.fromstring(report.xml.encode())
    assert in_order([c.tag for c in root], REPORT_ORDER)
    assert root.findtext("incidentSummary/escalateToHighPriority") == "The child is being contacted right now."
    assert root.findtext("personOrUserReported/espIdentifier") == "user-offender"
    assert root.findtext("personOrUserReported/ipCaptureEvent/ipAddress") == "203.0.113.7"
    assert root.findtext("personOrUserReported/ipCaptureEvent/eventName") == "Upload"
    assert sorted(e.findtext("espIdentifier") for e in root.findall("intendedRecipient")) == [
        "user-child",
        "user-other",
    ]
    assert root.findtext("victim/victimPerson/age") == "12"
    assert root.findtext("reporter/reportingPerson/email") == "trust-safety@example.org"
    # Each file: uploaded bytes as the user sent them, with details and truthful view flags.
    assert len(report.files) == 2
    by_md5 = {f.md5: f for f in report.files.values()}
    for cid, (md5, sha1, sha256, pdq) in hashes.items():
        f = by_md5[md5]
        assert f.details is not None
        d = etree.fromstring(f.details.encode())
        assert in_order([c.tag for c in d], FILE_ORDER)
        got = {h.get("hashType"): h.text for h in d.findall("originalFileHash")}
        assert got == {"MD5": md5, "SHA1": sha1, "SHA256": sha256, "PDQ": pdq}
        assert d.findtext("industryClassification") == "A1"
        assert d.find("fileAnnotations/viral") is not None
        assert d.findtext("fileViewedByEsp") == ("true" if cid == seen_id else "false")
        assert d.findtext("exifViewedByEsp") == "false"
        assert d.findtext("fileRelevance") == "Reported"


def test_text_only_enticement_is_reported_with_the_conversation(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    with db.session() as s:
        decision_id = decide(
            s, [], category="grooming", classification=None, subject_type="conversation", uploader="user-adult"
        )
    run_jobs(db)
    case_id = case_for(db, decision_id)
    rows = [
        {
            "sent_at": "2026-11-20T10:00:00Z",
            "sender": "user-adult",
            "recipient": "user-child",
            "text": "how old are you",
        },
        {
            "sent_at": "2026-11-20T10:01:00Z",
            "sender": "user-adult",
            "recipient": "user-child",
            "text": "don't tell your parents",
        },
        {
            "sent_at": "2026-11-20T10:02:00Z",
            "sender": "user-adult",
            "recipient": "user-child",
            "text": "add me on another app",
        },
    ]
    with db.session() as s, pytest.raises(Exception, match="no file and no conversation"):
        cases.queue_submission(s, settings, case_id, LEGAL, cybertip_settings())
    with db.session() as s:
        cases.attach_conversation(s, case_id, LEGAL, rows)
        cases.queue_submission(s, settings, case_id, LEGAL, cybertip_settings())
    run_jobs(db)
    with db.session() as s:
        case = s.get(ReportCase, case_id)
        assert case is not None and case.status == "finished", case.error_message
    report = double.state.finished()[0]
    root = etree.fromstring(report.xml.encode())
    assert root.findtext("incidentSummary/incidentType") == "Online Enticement of Children for Sexual Acts"
    assert root.find("internetDetails/chatImIncident") is not None
    (f,) = report.files.values()
    d = etree.fromstring((f.details or "").encode())
    assert d.findtext("fileRelevance") == "Supplemental Reported"
    assert d.find("industryClassification") is None
    assert f.name.endswith(".csv")


def test_a_minor_recipient_is_proposed_as_the_victim(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    from haven.accounts.models import Account

    configure(monkeypatch, settings, double)
    with db.session() as s:
        item = make_item(s, settings, 6, recipients=["user-kid", "user-grownup"])
        s.add(Account(id="user-kid", age_band="13_15"))
        s.add(Account(id="user-grownup", age_band="adult"))
        decision_id = decide(s, [item.id])
    run_jobs(db)
    with db.session() as s:
        case = s.get(ReportCase, case_for(db, decision_id))
        assert case is not None
        assert case.victims == [{"esp_identifier": "user-kid"}]
        assert [r["esp_identifier"] for r in case.recipients] == ["user-kid", "user-grownup"]


def test_automated_and_non_child_safety_decisions_open_no_case(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    with db.session() as s:
        item = make_item(s, settings, 3)
        decide(s, [item.id], automated=True)
        decide(s, [item.id], category="adult_nudity")
        decide(s, [item.id], decision="no_violation")
    run_jobs(db)
    with db.session() as s:
        assert s.scalars(select(ReportCase)).all() == []


def test_overturned_decision_cancels_the_draft(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    with db.session() as s:
        item = make_item(s, settings, 4)
        first = decide(s, [item.id])
    run_jobs(db)
    case_id = case_for(db, first)
    with db.session() as s:
        decide(s, [item.id], decision="no_violation", overturns=first)
    run_jobs(db)
    with db.session() as s:
        case = s.get(ReportCase, case_id)
        assert case is not None and case.status == "cancelled"


def test_roles(db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    from haven.core.errors import Forbidden
    from tests.cybertip.fixtures import ADMIN

    configure(monkeypatch, settings, double)
    with db.session() as s:
        item = make_item(s, settings, 5)
        decision_id = decide(s, [item.id])
    run_jobs(db)
    case_id = case_for(db, decision_id)
    with db.session() as s:
        with pytest.raises(Forbidden):
            cases.get_case(s, case_id, ADMIN)
        with pytest.raises(Forbidden):
            cases.queue_submission(s, settings, case_id, REVIEWER, cybertip_settings())
        assert cases.get_case(s, case_id, REVIEWER).status == "draft"


def test_missing_bytes_open_the_case_and_the_item_can_be_dropped(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    from haven.core.clock import now
    from haven.core.errors import Invalid
    from haven.screening.models import QuarantineObject

    configure(monkeypatch, settings, double)
    with db.session() as s:
        kept = make_item(s, settings, 7)
        gone = make_item(s, settings, 8)
        q = s.get(QuarantineObject, gone.quarantine_id)
        assert q is not None
        q.deleted_at = now()
        decision_id = decide(s, [kept.id, gone.id])
        kept_id, gone_id = kept.id, gone.id
    run_jobs(db)
    case_id = case_for(db, decision_id)
    with db.session() as s:
        assert [
            e.data["content_id"] for e in s.scalars(select(Event).where(Event.type == "report.material_missing"))
        ] == [gone_id]
    with db.session() as s, pytest.raises(Invalid, match="no preserved bytes"):
        cases.queue_submission(s, settings, case_id, LEGAL, cybertip_settings())
    with db.session() as s, pytest.raises(Invalid, match="not added"):
        cases.update_case(s, case_id, LEGAL, {"content_ids": [kept_id, "other"]})
    with db.session() as s:
        cases.update_case(s, case_id, LEGAL, {"content_ids": [kept_id]})
        cases.queue_submission(s, settings, case_id, LEGAL, cybertip_settings())
    run_jobs(db)
    assert len(double.state.finished()[0].files) == 1
