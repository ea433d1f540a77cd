"""A reporter who consents on the hosted form (`/report`) gets the conversation they reported from
attached to the report's review task: the task page shows it (audited `conversation.view`, as
conversation tasks do), and only when the reported account is in that conversation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from haven.core import jobs
from haven.core.db import Database
from haven.core.models import AuditRecord
from haven.review.models import ReviewTask
from haven.safety import guard
from haven.safety.config import safety_settings
from tests.conftest import LiveServer
from tests.review.console_client import ConsoleClient
from tests.review.fixtures import PASSWORD, make_staff


@pytest.fixture
def quick_form(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safety_settings(), "form_min_seconds", 0.0)
    guard.reset()


def _file(server: LiveServer, target: str, conversation: str, target_type: str = "account") -> None:
    with server.client() as c:
        form = c.get("/report").text
        token = form.split('name="token" value="')[1].split('"')[0]
        r = c.post(
            "/report",
            data={
                "token": token,
                "target_type": target_type,
                "target_id": target,
                "category": "csam",
                "explanation": "This account asked a child for pictures.",
                "good_faith": "1",
                "conversation": conversation,
                "attach_conversation": "1",
            },
        )
        assert r.status_code == 201, r.text


def _views(db: Database) -> list[AuditRecord]:
    with db.session() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.action == "conversation.view")))


def test_consented_conversation_is_shown_on_the_report_task(
    server: LiveServer, api_key: str, db: Database, quick_form: None
) -> None:
    with server.client(api_key) as c:
        c.put("/v1/accounts/acct-1", json={"age_band": "adult"})
        c.put("/v1/accounts/kid-1", json={"age_band": "13_15"})
        for i, (frm, to, text) in enumerate(
            [("acct-1", "kid-1", "hey how old are you"), ("kid-1", "acct-1", "14"), ("acct-1", "kid-1", "line-3 ok")],
            start=1,
        ):
            r = c.post(
                "/v1/messages",
                json={
                    "message_id": f"m-{i}",
                    "conversation_id": "chat-5",
                    "sender": frm,
                    "recipients": [to],
                    "text": text,
                    "sent_at": f"2026-11-21T10:0{i}:00Z",
                },
            )
            assert r.status_code == 200, r.text
    _file(server, "acct-1", "chat-5")  # the reported account is in chat-5
    _file(server, "acct-9", "chat-5")  # acct-9 is not: the chat is not attached
    _file(server, "post-1", "chat-5", "content")  # an item never sent in chat-5: not attached either
    jobs.work(db, once=True)
    with db.session() as s:
        tasks = {
            t.details["target_id"]: t.id
            for t in s.scalars(select(ReviewTask).where(ReviewTask.queue == "user_reports"))
        }
    assert set(tasks) == {"acct-1", "acct-9", "post-1"}
    assert _views(db) == []

    staff_id, secret = make_staff(db, "cs@example.org", ["child_safety_reviewer"])
    cs = ConsoleClient(server.url)
    cs.sign_in("cs@example.org", PASSWORD, secret)
    html = cs.get(f"/console/tasks/{tasks['acct-1']}").text
    assert "Conversation attached by the reporter <code>chat-5</code>" in html
    assert 'id="conv-consented"' in html and "line-3 ok" in html and "how old are you</mark>" in html
    views = _views(db)
    assert [(v.actor, v.object_id, v.purpose) for v in views] == [(f"staff:{staff_id}", "chat-5", "review.task")]

    for target in ("acct-9", "post-1"):
        html = cs.get(f"/console/tasks/{tasks[target]}").text
        assert 'id="conv-unrelated"' in html and "line-3 ok" not in html
    assert "reported item was not sent in it" in html
    assert len(_views(db)) == 1
