"""The console's report desk over real HTTP against the real server and the CyberTipline double:
every field shown, drafts edited with validation errors shown inline, CSRF refused, escalation,
submission refused to child-safety reviewers and done by legal, and the failure states visible."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from haven.core.db import Database
from haven.core.models import AuditRecord
from haven.core.settings import Settings
from haven.cybertip import cases
from haven.cybertip.double import Fault
from haven.cybertip.models import ReportCase, TiplineCall
from haven.screening.models import ContentItem
from tests.conftest import LiveServer
from tests.cybertip.fixtures import LEGAL, LiveDouble, case_for, configure, decide, make_item, reveal, run_jobs
from tests.review.conftest import _fast_argon2  # noqa: F401  (cheap argon2 for staff sign-in)
from tests.review.console_client import ConsoleClient, assert_accessible_form_controls
from tests.review.fixtures import PASSWORD, make_staff


def _draft(db: Database, settings: Settings, cs_staff_id: str) -> tuple[str, ContentItem, ContentItem]:
    """A draft case with two files: the reviewer revealed the first, nobody the second."""
    with db.session() as s:
        seen = make_item(s, settings, 11, recipients=["user-child"])
        unseen = make_item(s, settings, 12, recipients=["user-child"])
        reveal(s, settings, seen, actor=f"staff:{cs_staff_id}")
        decision_id = decide(s, [seen.id, unseen.id])
        s.flush()  # written before the objects are detached (expunged pending rows are never inserted)
        s.expunge_all()
    run_jobs(db)
    return case_for(db, decision_id), seen, unseen


def _signed_in(server: LiveServer, email: str, secret: str) -> ConsoleClient:
    c = ConsoleClient(server.url)
    assert c.sign_in(email, PASSWORD, secret).status_code == 200
    return c


def _case(db: Database, case_id: str) -> ReportCase:
    with db.session() as s:
        case = s.get(ReportCase, case_id)
        assert case is not None
        s.expunge(case)
        return case


def _form_of(html: str) -> dict[str, str]:
    """The draft form's current values, as a browser would post them (checked boxes only)."""
    import lxml.html

    doc = lxml.html.fromstring(html)
    form = doc.get_element_by_id("draft-form")
    out: dict[str, list[str]] = {}
    for el in form.xpath(".//input | .//textarea | .//select"):
        name = el.get("name")
        if not name or el.get("disabled") is not None:
            continue
        if el.tag == "input" and el.get("type") in ("checkbox", "radio"):
            if el.get("checked") is not None:
                out.setdefault(name, []).append(el.get("value") or "on")
        elif el.tag == "select":
            sel = el.xpath("./option[@selected]")
            out.setdefault(name, []).append(sel[0].get("value") if sel else "")
        elif el.tag == "textarea":
            out.setdefault(name, []).append(el.text or "")
        else:
            out.setdefault(name, []).append(el.get("value") or "")
    return {k: v if len(v) > 1 else v[0] for k, v in out.items()}  # type: ignore[misc]


def test_report_desk_shows_edits_escalates_and_submits(
    server: LiveServer, db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    cs_id, cs_secret = make_staff(db, "drafter@example.org", ["child_safety_reviewer"])
    _, legal_secret = make_staff(db, "counsel@example.org", ["legal"])
    case_id, seen, unseen = _draft(db, settings, cs_id)

    cs = _signed_in(server, "drafter@example.org", cs_secret)
    listing = cs.get("/console/reports")
    assert listing.status_code == 200
    row = re.search(rf'<tr data-case="{case_id}" data-status="draft">.*?</tr>', listing.text, re.S)
    assert row is not None and "min" in row.group(0)  # its age
    assert 'class="status status-draft"' in row.group(0)

    page = cs.get(f"/console/reports/{case_id}")
    assert page.status_code == 200
    html = page.text
    assert_accessible_form_controls(html)
    for h in (seen.md5, seen.sha1, seen.sha256, seen.pdq, unseen.sha256):
        assert h and h in html
    # The truthful flags, with who viewed and when.
    files = dict(re.findall(r'data-file="([^"]+)".*?data-viewed="(true|false)"', html, re.S))
    assert files == {seen.id: "true", unseen.id: "false"}
    assert "viewed by drafter@example.org" in html
    assert 'data-exif-viewed="false"' in html
    assert "203.0.113.7" in html and "Upload" in html  # the IP capture of the uploads
    assert 'value="user-offender"' in html and 'value="user-child"' in html  # reported account, recipient
    assert "passes the CyberTipline schema" in html
    assert "a member of the legal team submits it" in html and 'id="submit-report"' not in html

    form = _form_of(html)
    form["victim-0-esp_identifier"] = "user-child"
    # CSRF: refused without the token, nothing changes.
    assert cs.post(f"/console/reports/{case_id}/edit", {**form, "csrf_token": ""}).status_code == 403
    # Validation errors are shown next to the field, what was typed is kept, nothing is saved.
    bad = cs.post(
        f"/console/reports/{case_id}/edit",
        {**form, "victim-0-age": "twelve", "incident_at": "yesterday", "recipient-0-ip_events": "10.0.0.1 Lunch"},
    )
    assert bad.status_code == 422
    assert "The draft was not saved" in bad.text
    assert 'id="err-victim-0-age"' in bad.text and "whole number" in bad.text
    assert 'id="err-incident_at"' in bad.text and 'value="yesterday"' in bad.text
    assert 'id="err-recipient-0-ip_events"' in bad.text
    assert 'aria-invalid="true" aria-describedby="err-victim-0-age"' in bad.text
    assert _case(db, case_id).victims == []
    # The service's own checks show too (an address that is not an IP).
    bad = cs.post(f"/console/reports/{case_id}/edit", {**form, "reported-ip_events": "not-an-ip Login"})
    assert bad.status_code == 422 and "does not appear to be an IPv4 or IPv6 address" in bad.text
    # A good edit: the victim with an age, one annotation, a file annotation.
    good = cs.post(
        f"/console/reports/{case_id}/edit",
        {
            **form,
            "victim-0-age": "13",
            "annotations": ["minorToMinorInteraction"],
            f"fann-{unseen.id}": ["viral"],
            f"class-{unseen.id}": "B1",
        },
    )
    assert good.status_code == 303, good.text[:2000]
    case = _case(db, case_id)
    assert case.victims == [
        {
            "esp_identifier": "user-child",
            "display_names": [],
            "emails": [],
            "phones": [],
            "profile_urls": [],
            "ip_events": [],
            "age": 13,
        }
    ]
    assert case.annotations == ["minorToMinorInteraction"]
    assert case.classifications == {seen.id: "A1", unseen.id: "B1"}
    assert case.file_annotations == {unseen.id: ["viral"]}
    assert case.recipients[0]["esp_identifier"] == "user-child"
    # Escalation: a reason is required.
    r = cs.post(f"/console/reports/{case_id}/escalate", {"reason": "  "})
    assert r.status_code == 422 and 'id="err-escalation_reason"' in r.text
    r = cs.post(f"/console/reports/{case_id}/escalate", {"reason": "The child says the meeting is tonight."})
    assert r.status_code == 303
    assert _case(db, case_id).escalation_reason == "The child says the meeting is tonight."
    # Submitting is for legal only.
    assert cs.post(f"/console/reports/{case_id}/submit").status_code == 403
    assert _case(db, case_id).status == "draft"

    legal = _signed_in(server, "counsel@example.org", legal_secret)
    page = legal.get(f"/console/reports/{case_id}")
    assert 'id="submit-report"' in page.text and "high priority" in page.text
    assert legal.post(f"/console/reports/{case_id}/submit", {"csrf_token": ""}).status_code == 403
    r = legal.post(f"/console/reports/{case_id}/submit")
    assert r.status_code == 303
    assert _case(db, case_id).status == "queued"
    status = legal.get(f"/console/reports/{case_id}/status")
    assert "Queued for the worker" in status.text and 'hx-trigger="every 2s"' in status.text
    run_jobs(db)
    case = _case(db, case_id)
    assert case.status == "finished" and case.ncmec_report_id
    page = legal.get(f"/console/reports/{case_id}")
    assert f'<strong id="ncmec-report-id">{case.ncmec_report_id}</strong>' in page.text
    assert "disabled" in page.text and 'id="save-draft"' not in page.text  # no longer editable
    with db.session() as s:
        request_ids = [e.request_id for e in s.scalars(select(TiplineCall).where(TiplineCall.case_id == case_id))]
    assert len(request_ids) >= 4 and all(request_ids)
    for rid in request_ids:
        assert f"<code>{rid}</code>" in page.text
    # What the double received says what the desk showed: escalation, victim age, flags.
    (filed,) = double.state.finished()
    assert "The child says the meeting is tonight." in filed.xml
    assert "<age>13</age>" in filed.xml
    assert 'data-viewed="true"' in page.text and "(as sent)" in page.text
    assert legal.post(f"/console/reports/{case_id}/edit", {}).status_code == 409  # finished: not editable


def test_credential_alert_and_refusal_are_shown(
    server: LiveServer, db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double, HAVEN_CYBERTIP_PASSWORD="wrong")
    cs_id, _ = make_staff(db, "drafter@example.org", ["child_safety_reviewer"])
    _, legal_secret = make_staff(db, "counsel@example.org", ["legal"])
    case_id, _, _ = _draft(db, settings, cs_id)
    legal = _signed_in(server, "counsel@example.org", legal_secret)
    assert legal.post(f"/console/reports/{case_id}/submit").status_code == 303
    run_jobs(db)
    page = legal.get(f"/console/reports/{case_id}")
    assert _case(db, case_id).status == "credential_alert"
    assert "Credential alert" in page.text and "code 2000" in page.text and "Resume sending" in page.text
    listing = legal.get("/console/reports?status=credential_alert")
    assert f'data-case="{case_id}"' in listing.text and "2000" in listing.text
    # Fixed credentials, then NCMEC refuses the report itself (4xxx): failed, with its message.
    configure(monkeypatch, settings, double)
    double.state.faults.append(Fault("submit", "code", 4100))
    assert legal.post(f"/console/reports/{case_id}/resume").status_code == 303
    run_jobs(db)
    case = _case(db, case_id)
    assert case.status == "failed" and case.error_code == 4100
    page = legal.get(f"/console/reports/{case_id}")
    assert "NCMEC refused the report" in page.text and "(code 4100)" in page.text
    assert case.error_message and case.error_message.split(" (")[0] in page.text
    assert 'id="save-draft"' in page.text  # a refused report can be corrected and sent again
    # Withdrawing needs a reason.
    assert legal.post(f"/console/reports/{case_id}/cancel", {"reason": ""}).status_code == 422
    assert legal.post(f"/console/reports/{case_id}/cancel", {"reason": "duplicate of another case"}).status_code == 303
    assert _case(db, case_id).status in ("cancelled", "cancelling")


def test_person_entries_and_exif_views_are_checked(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Service checks behind the form: ages, dates of birth and IP events are validated when a
    draft is edited, and `exif_views` lists who opened a file's metadata."""
    from haven.core.errors import Invalid
    from haven.core.ledger import audit

    configure(monkeypatch, settings, double)
    with db.session() as s:
        item = make_item(s, settings, 21)
        decision_id = decide(s, [item.id])
        item_id, qid = item.id, item.quarantine_id
    run_jobs(db)
    case_id = case_for(db, decision_id)
    for bad in (
        {"esp_identifier": "u", "age": "12"},
        {"esp_identifier": "u", "age": 151},
        {"esp_identifier": "u", "date_of_birth": "31/01/2010"},
        {"esp_identifier": "u", "ip_events": [{"ip": "300.1.1.1", "event": "Login"}]},
        {"esp_identifier": "u", "ip_events": [{"ip": "10.0.0.1", "event": "Lunch"}]},
    ):
        with db.session() as s, pytest.raises(Invalid) as exc:
            cases.update_case(s, case_id, LEGAL, {"victims": [bad]})
        assert exc.value.code == "invalid_person"
    with db.session() as s:
        cases.update_case(
            s,
            case_id,
            LEGAL,
            {"victims": [{"esp_identifier": "u", "age": 12, "ip_events": [{"ip": "10.0.0.1", "event": "Login"}]}]},
        )
    with db.session() as s:
        item = s.get(ContentItem, item_id)
        assert item is not None and qid
        assert cases.exif_views(s, item) == [] and not cases.exif_viewed(s, item)
        audit(s, actor="system:haven", action="media.exif_view", object_type="quarantine_object", object_id=qid)
        audit(
            s,
            actor="staff:someone",
            action="media.exif_view",
            object_type="quarantine_object",
            object_id=qid,
            details={"content_id": item_id},
        )
    with db.session() as s:
        item = s.get(ContentItem, item_id)
        assert item is not None
        views = cases.exif_views(s, item)
        assert [v.actor for v in views] == ["staff:someone"] and cases.exif_viewed(s, item)
        assert s.scalar(select(AuditRecord).where(AuditRecord.action == "media.exif_view")) is not None


def test_text_only_case_gets_its_conversation_from_the_desk(
    server: LiveServer, db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    _, cs_secret = make_staff(db, "drafter@example.org", ["child_safety_reviewer"])
    _, legal_secret = make_staff(db, "counsel@example.org", ["legal"])
    with db.session() as s:
        decision_id = decide(s, [], category="grooming", classification=None, subject_type="account")
    run_jobs(db)
    case_id = case_for(db, decision_id)
    cs = _signed_in(server, "drafter@example.org", cs_secret)
    page = cs.get(f"/console/reports/{case_id}")
    assert "No conversation attached" in page.text and 'id="conversation-file"' in page.text
    url = f"/console/reports/{case_id}/conversation"
    assert cs.post(url, {"csrf_token": ""}, files={"file": ("c.csv", b"text\nhi\n")}).status_code == 403
    r = cs.post(url, files={"file": ("c.csv", b"when,who\n1,2\n", "text/csv")})
    assert r.status_code == 422 and 'id="err-conversation"' in r.text and "“text” column" in r.text
    r = cs.post(url, {})
    assert r.status_code == 422 and "Choose a CSV file" in r.text
    chat = (
        "sent_at,sender,recipient,text\r\n"
        "2026-01-01T10:00:00Z,user-offender,user-child,how old are you\r\n"
        "2026-01-01T10:01:00Z,user-offender,user-child,don't tell your parents\r\n"
    )
    r = cs.post(url, files={"file": ("chat.csv", chat.encode(), "text/csv")})
    assert r.status_code == 303
    page = cs.get(f"/console/reports/{case_id}")
    assert "2 messages, sent as a supplemental CSV" in page.text and "don&#39;t tell your parents" in page.text
    legal = _signed_in(server, "counsel@example.org", legal_secret)
    assert legal.post(f"/console/reports/{case_id}/submit").status_code == 303
    run_jobs(db)
    assert _case(db, case_id).status == "finished"
    (filed,) = double.state.finished()
    assert [f.name for f in filed.files.values()] == [f"conversation-{case_id}.csv"]
