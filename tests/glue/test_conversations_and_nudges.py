"""Flagged conversations reach reviewers and nudges reach the service: grooming and sextortion
conversations over HTTP become tasks in the grooming queue (sextortion first); the task page
shows the conversation with each behaviour marked in words (and the access audited); a decision
on it is a `review.decision` about the conversation; each `safety.nudge` is delivered once as a
signed webhook."""

from __future__ import annotations

import re

from sqlalchemy import select

from haven.core.db import Database
from haven.core.models import AuditRecord, Event
from haven.enforce.models import Delivery
from haven.enforce.subscribers import on_safety_nudge
from haven.review.models import ReviewTask
from tests.conftest import LiveServer, make_key
from tests.enforce.doubles import receiver
from tests.enforce.test_webhook_flow import configure, drain
from tests.review.console_client import ConsoleClient, assert_accessible_form_controls
from tests.review.fixtures import PASSWORD, make_staff

GROOMER = [
    "hey i saw ur drawing, ur really talented",
    "how old r u btw?",
    "ur so mature for ur age",
    "do ur parents check ur phone?",
    "add me on sn@pchat its more private",
    "dont tell anyone we talk ok? its our secret",
]
SEXTORTION = ["i have ur pics", "pay me $200 in steam cards or i will send them to all ur friends"]


def _msg(conv: str, sender: str, to: str, text: str, i: int) -> dict[str, object]:
    return {
        "message_id": f"{conv}-{i}",
        "conversation_id": conv,
        "sender": sender,
        "recipients": [to],
        "text": text,
        "sent_at": f"2026-11-21T10:{i:02d}:00Z",
    }


def test_flagged_conversations_tasks_page_decision_and_nudges(server: LiveServer, api_key: str, db: Database) -> None:
    admin = make_key(db, ["admin"])
    cs_id, secret = make_staff(db, "cs@example.org", ["child_safety_reviewer"])
    with receiver() as rec, server.client(admin) as a, server.client(api_key) as c:
        configure(a, rec)
        c.put("/v1/accounts/man-1", json={"age_band": "adult"})
        c.put("/v1/accounts/kid-1", json={"age_band": "13_15"})
        c.put("/v1/accounts/teen-9", json={"age_band": "16_17"})
        for i, t in enumerate(GROOMER, 1):
            assert c.post("/v1/messages", json=_msg("conv-1", "man-1", "kid-1", t, i)).status_code == 200
        for i, t in enumerate(SEXTORTION, 1):
            assert c.post("/v1/messages", json=_msg("conv-x", "stranger", "teen-9", t, i)).status_code == 200
        drain(db)

        # Nudges: one signed delivery per safety.nudge event, to the minor, with the ready message.
        nudges = {n["data"]["account_id"]: n["data"] for n in rec.actions("safety.nudge")}
        assert set(nudges) == {"kid-1", "teen-9"} and rec.bad_signatures == 0
        assert nudges["kid-1"]["conversation_id"] == "conv-1" and nudges["kid-1"]["message"]["family"] == "grooming"
        assert "do not pay" in nudges["teen-9"]["message"]["body"]
        with db.session() as s:
            for ev in s.scalars(select(Event).where(Event.type == "safety.nudge")):
                on_safety_nudge(s, ev)  # a retried job sends nothing new
        drain(db)
        assert len(rec.actions("safety.nudge")) == 2
        with db.session() as s:
            assert len(s.scalars(select(Delivery).where(Delivery.action_type == "safety.nudge")).all()) == 2

        # Tasks: one per conversation in the grooming queue; sextortion very high, first.
        with db.session() as s:
            tasks = {t.subject_id: t for t in s.scalars(select(ReviewTask).where(ReviewTask.queue == "grooming"))}
            assert set(tasks) == {"conv-1", "conv-x"}
            assert all(t.subject_type == "conversation" and t.child_safety for t in tasks.values())
            assert tasks["conv-x"].severity == 4 and tasks["conv-1"].severity == 3
            assert tasks["conv-1"].uploader == "man-1" and tasks["conv-1"].details["recipients"] == ["kid-1"]
            assert "adult_minor_asymmetry" in tasks["conv-1"].details["relationship"]

        cs = ConsoleClient(server.url)
        cs.sign_in("cs@example.org", PASSWORD, secret)
        r = cs.post("/console/queues/grooming/next")
        assert r.headers["location"].split("?")[0] == f"/console/tasks/{tasks['conv-x'].id}"
        r = cs.post(
            f"/console/tasks/{tasks['conv-x'].id}/decide",
            {"decision": "violation", "category": "sextortion", "then": "next"},
        )
        assert r.status_code == 303 and r.headers["location"].split("?")[0] == f"/console/tasks/{tasks['conv-1'].id}", (
            r.text
        )
        page = cs.get(r.headers["location"])
        assert page.status_code == 200
        html = page.text
        assert_accessible_form_controls(html)
        # Every message in order, the behaviours marked in the text and named in words.
        assert html.count('class="message') == 6
        assert re.search(r'<mark data-behaviour="secrecy">[^<]*</mark> <span class="behaviour-tag">\[secrecy\]', html)
        assert "Behaviours on this message:</strong> risk assessment" in html
        assert '<p class="warning" role="note"><strong>Warning fired here:</strong> grooming</p>' in html
        # The trained model warns at turn 3 ("ur so mature for ur age", adult stranger to a 13-15);
        # the rules' alone-check on turn 4 is still marked where it stands.
        turn3 = html[html.index('id="turn-3"') : html.index('id="turn-4"')]
        assert "Warning fired here" in turn3 and "model 0." in turn3
        turn4 = html[html.index('id="turn-4"') : html.index('id="turn-5"')]
        assert "Warning fired here" not in turn4 and '<mark data-behaviour="risk_assessment">' in turn4
        plain = re.sub(r"<[^>]+>", "", re.sub(r" <span class=\"behaviour-tag\">[^<]*</span>", "", turn4))
        assert "do ur parents check ur phone?" in plain
        assert "(13_15)" not in turn4 and "man-1</strong> (adult)" in turn4
        assert 'value="grooming" selected' in html  # the suggested category
        with db.session() as s:
            views = s.scalars(
                select(AuditRecord).where(AuditRecord.action == "conversation.view", AuditRecord.object_id == "conv-1")
            ).all()
            assert len(views) == 1 and views[0].actor == f"staff:{cs_id}" and views[0].purpose == "review.task"
        r = cs.post(
            f"/console/tasks/{tasks['conv-1'].id}/decide",
            {"decision": "violation", "category": "grooming", "then": "queue"},
        )
        assert r.status_code == 303, r.text
        drain(db)
        cs.close()
    with db.session() as s:
        decisions = s.scalars(select(Event).where(Event.type == "review.decision")).all()
        assert {(e.subject_type, e.subject_id, e.data["category"]) for e in decisions} == {
            ("conversation", "conv-x", "sextortion"),
            ("conversation", "conv-1", "grooming"),
        }
        assert all(e.data["uploader"] in ("man-1", "stranger") for e in decisions)
        # Reporting opens draft CyberTipline cases for the text-only decisions (its own subscriber).
        from haven.cybertip.models import ReportCase

        cases = s.scalars(select(ReportCase).where(ReportCase.subject_type == "conversation")).all()
        assert {(c.subject_id, c.reported_account.get("esp_identifier")) for c in cases} == {
            ("conv-x", "stranger"),
            ("conv-1", "man-1"),
        }
        # Enforcement acted on the senders (zero tolerance terminates).
        assert s.scalar(select(Event).where(Event.type == "enforcement.refused")) is None
    assert {x["data"]["account_id"] for x in rec.actions("account.terminate")} == {"man-1", "stranger"}
