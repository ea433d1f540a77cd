"""Appeals reach reviewers: a blocked upload is enforced, its uploader appeals over HTTP, the
appeal becomes a task in the appeals queue that the original decider cannot claim or decide,
and a different reviewer upholds it in the console, which reverses the actions and the strike
on the service's webhook receiver."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from haven.accounts.models import Account
from haven.core.db import Database
from haven.core.models import AuditRecord, Event
from haven.enforce import appeals
from haven.enforce.models import Strike
from haven.review.models import ReviewDecision, ReviewTask
from haven.review.service import claim
from tests.conftest import LiveServer, make_key
from tests.enforce.doubles import receiver
from tests.enforce.test_webhook_flow import configure, drain
from tests.helpers import encode, sample
from tests.review.console_client import ConsoleClient, assert_accessible_form_controls
from tests.review.fixtures import PASSWORD, make_staff, reviewer

ROLES = ["child_safety_reviewer", "senior"]


def _task_id(r) -> str:  # type: ignore[no-untyped-def]
    assert r.status_code == 303 and r.headers["location"].startswith("/console/tasks/"), (r.status_code, r.text)
    return str(r.headers["location"].rsplit("/", 1)[1])


def test_blocked_upload_appeal_upheld_by_another_reviewer_in_the_console(
    server: LiveServer, api_key: str, db: Database
) -> None:
    admin = make_key(db, ["admin"])
    original = encode(sample("astronaut"), quality=95)
    a_id, a_secret = make_staff(db, "first@example.org", ROLES)
    b_id, b_secret = make_staff(db, "second@example.org", ROLES)
    with receiver() as rec, server.client(admin) as adm, server.client(api_key) as c:
        configure(adm, rec)
        assert c.post("/v1/banks", json={"name": "known", "kind": "known_csam"}).status_code == 201
        # The picture's PDQ computed here (an upload of it first would itself be found by the
        # retroaction over past uploads when the entry is added, and open a task of its own).
        from haven.core.settings import get_settings
        from haven.screening.signals import compute_signals

        pdq = compute_signals(original, get_settings()).image.pdq  # type: ignore[union-attr]
        c.post("/v1/banks/known/entries", json={"entries": [{"signal_type": "pdq", "value": pdq}]})
        meta = {"uploader": "acct-9", "external_id": "up-1"}
        up = c.post("/v1/content", files={"file": ("y.jpg", original)}, data={"metadata": json.dumps(meta)}).json()
        assert up["verdict"]["action"] == "block"
        drain(db)
        assert sorted(e["type"] for e in rec.executed) == ["account.terminate", "content.remove", "notice.deliver"]
        decision_id = rec.actions("notice.deliver")[0]["data"]["decision_id"]

        # The first reviewer confirms the block in the console: now an original decider.
        first = ConsoleClient(server.url)
        first.sign_in("first@example.org", PASSWORD, a_secret)
        confirm_task = _task_id(first.post("/console/queues/known_material/next"))
        # Zero tolerance already acted; the page says so, and what the decision does about it.
        page = first.get(f"/console/tasks/{confirm_task}").text
        done = re.search(r'<p class="notice" role="status" id="automated-action">(.*?)</p>', page, re.S)
        assert done is not None and "known_material.block" in done.group(1)
        assert "account terminate" in done.group(1) and "confirms it, or reverses it" in done.group(1)
        r = first.post(
            f"/console/tasks/{confirm_task}/decide",
            {"decision": "violation", "category": "csam", "classification": "A1", "then": "queue"},
        )
        assert r.status_code == 303, r.text
        # The next page links to what followed the decision.
        assert "?decided=" in r.headers["location"]
        drain(db)
        followed = first.get("/console/decisions/" + r.headers["location"].split("decided=")[1])
        assert followed.status_code == 200 and 'id="followups"' in followed.text
        assert "hash(es) added to local_confirmed" in followed.text
        assert len(rec.executed) == 3  # confirming changes nothing on the service

        # The user appeals over HTTP; the appeal becomes a task in the appeals queue.
        r = c.post(
            "/v1/appeals",
            json={"decision_id": decision_id, "appellant": "acct-9", "statement": "This is a photo of an astronaut."},
        )
        assert r.status_code == 201, r.text
        appeal_id = r.json()["id"]
        drain(db)
        with db.session() as s:
            (task,) = s.scalars(select(ReviewTask).where(ReviewTask.queue == "appeals")).all()
            assert task.subject_type == "content" and task.subject_id == up["id"]
            assert task.child_safety and task.severity == 3 and task.uploader == "acct-9"
            assert task.details["appeal_id"] == appeal_id and task.details["exclude_staff"] == [a_id]
            assert f"staff:{a_id}" in task.details["original_deciders"]
            assert "astronaut" in task.reason
            appeal_task = task.id
        # Idempotent per event: running the subscriber's job again adds nothing.
        with db.session() as s:
            from haven.review.inbound import task_from_appeal

            task_from_appeal(s, s.scalars(select(Event).where(Event.type == "appeal.filed")).one())
        with db.session() as s:
            assert len(s.scalars(select(ReviewTask).where(ReviewTask.queue == "appeals")).all()) == 1

        # The original decider is refused at claim time, on the server.
        r = first.post("/console/queues/appeals/next")
        assert r.status_code == 303 and r.headers["location"] == "/console/queues/appeals?empty=1"
        with db.session() as s:
            assert claim(s, appeal_task, reviewer(db, a_id)) is False
            assert s.get(ReviewTask, appeal_task).claimed_by is None  # type: ignore[union-attr]

        # A different reviewer claims it, sees the appeal and the uploader's strike, upholds it.
        second = ConsoleClient(server.url)
        second.sign_in("second@example.org", PASSWORD, b_secret)
        assert _task_id(second.post("/console/queues/appeals/next")) == appeal_task
        page = second.get(f"/console/tasks/{appeal_task}")
        assert page.status_code == 200
        html = page.text
        assert f"<code>{appeal_id}</code>" in html and "restores the content" in html
        assert '<blockquote class="statement">This is a photo of an astronaut.</blockquote>' in html
        standing = re.search(r'<p id="standing">(.*?)</p>', html, re.S)
        assert standing is not None and "<strong>10</strong> (1 active strike)" in standing.group(1)
        assert "<td>csam</td><td>10</td>" in html and "Earlier decisions" in html
        assert assert_accessible_form_controls(html) >= 10
        r = second.post(
            f"/console/tasks/{appeal_task}/decide",
            {"decision": "no_violation", "note": "a photograph of an astronaut", "then": "queue"},
        )
        assert r.status_code == 303, r.text
        drain(db)

    restored = rec.actions("content.restore")
    reinstated = rec.actions("account.reinstate")
    assert [x["data"]["content_id"] for x in restored] == [up["id"]]
    assert [x["data"]["account_id"] for x in reinstated] == ["acct-9"]
    assert reinstated[0]["data"]["state"] == "active"
    outcome = [x["data"] for x in rec.actions("notice.deliver") if x["data"]["kind"] == "appeal_outcome"]
    assert len(outcome) == 1 and outcome[0]["appeal_id"] == appeal_id and outcome[0]["outcome"] == "upheld"
    with db.session() as s:
        got = appeals.get(s, appeal_id)
        assert got.status == "upheld" and got.decided_by == f"staff:{b_id}"
        (strike,) = s.scalars(select(Strike).where(Strike.account_id == "acct-9")).all()
        assert strike.removed_at is not None
        assert s.get(Account, "acct-9").state == "active"  # type: ignore[union-attr]
        ev = s.scalars(select(Event).where(Event.type == "review.decision").order_by(Event.created_at)).all()[-1]
        assert ev.data["appeal_id"] == appeal_id and ev.data["queue"] == "appeals" and ev.data["automated"] is False
        assert s.scalar(select(Event).where(Event.type == "enforcement.refused")) is None
        assert s.scalar(select(AuditRecord).where(AuditRecord.action == "appeal.upheld")) is not None
        decided = s.scalars(select(ReviewDecision).where(ReviewDecision.task_id == appeal_task)).one()
        assert decided.reviewer == b_id
    first.close()
    second.close()
