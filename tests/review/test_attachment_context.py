"""Media sent as a message attachment: the task page shows the conversation around the message that
carried it (audited, marked in words), a plain upload shows none; the `message_attachments` link
(filled at intake, backfilled by the migration); and "next" filtering every appeal exclusion in SQL."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from haven.classify.models import Conversation, ConversationMessage, MessageAttachment
from haven.core import jobs
from haven.core.clock import new_id
from haven.core.db import Database
from haven.core.migrate import upgrade
from haven.core.models import AuditRecord
from haven.review import create_task
from haven.review.models import ReviewTask, ReviewTaskExclusion
from haven.review.service import claim_next
from haven.screening.models import ContentItem
from tests.conftest import PG_URL, LiveServer, make_key
from tests.helpers import encode, sample
from tests.review.console_client import ConsoleClient
from tests.review.fixtures import PASSWORD, bank_and_flag, make_staff, reviewer

CONV = "chat-77"
ATTACHED_TURN = 15


def _msg(i: int, text: str, attachments: list[dict[str, str]] | None = None) -> dict:  # type: ignore[type-arg]
    return {
        "message_id": f"m-{i}",
        "conversation_id": CONV,
        "sender": "acct-1" if i % 2 else "kid-1",
        "recipients": ["kid-1" if i % 2 else "acct-1"],
        "text": text,
        "sent_at": f"2026-11-21T10:{i:02d}:00Z",
        "attachments": attachments or [],
    }


def _conversation_views(db: Database) -> list[AuditRecord]:
    with db.session() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.action == "conversation.view")))


def test_attachment_task_page_shows_the_surrounding_messages(server: LiveServer, api_key: str, db: Database) -> None:
    with server.client(api_key) as c:
        c.put("/v1/accounts/acct-1", json={"age_band": "adult"})
        c.put("/v1/accounts/kid-1", json={"age_band": "13_15"})
        sent = bank_and_flag(c, encode(sample("astronaut"), quality=95), encode(sample("astronaut").resize((320, 320))))
        assert sent["verdict"]["action"] == "block"
        plain = c.post(
            "/v1/content", files={"file": ("p.jpg", encode(sample("astronaut").resize((300, 300)), quality=70))}
        ).json()
        assert plain["verdict"]["action"] == "block"
        for i in range(1, 23):
            if i == ATTACHED_TURN:
                body = _msg(i, "here it is", [{"content_id": sent["id"], "media_kind": "image"}])
            elif i == ATTACHED_TURN - 1:
                body = _msg(i, "line-14; dont tell anyone we talk ok? its our secret")
            else:
                body = _msg(i, f"line-{i:02d}; hello")
            r = c.post("/v1/messages", json=body)
            assert r.status_code == 200, r.text
            assert r.json()["turn"] == i
    jobs.work(db, once=True)
    with db.session() as s:
        links = s.execute(
            select(MessageAttachment.content_id, ConversationMessage.external_id).join(
                ConversationMessage, ConversationMessage.id == MessageAttachment.message_id
            )
        ).all()
        assert [tuple(x) for x in links] == [(sent["id"], f"m-{ATTACHED_TURN}")]
        tasks = {t.subject_id: t.id for t in s.scalars(select(ReviewTask).where(ReviewTask.queue == "known_material"))}
    assert set(tasks) == {sent["id"], plain["id"]}

    # Someone who may not see child-safety tasks gets neither the page nor the conversation.
    _, rsecret = make_staff(db, "rev@example.org", ["reviewer"])
    other = ConsoleClient(server.url)
    other.sign_in("rev@example.org", PASSWORD, rsecret)
    assert other.get(f"/console/tasks/{tasks[sent['id']]}").status_code == 403
    assert _conversation_views(db) == []

    cs_id, secret = make_staff(db, "cs@example.org", ["child_safety_reviewer"])
    c2 = ConsoleClient(server.url)
    c2.sign_in("cs@example.org", PASSWORD, secret)
    page = c2.get(f"/console/tasks/{tasks[sent['id']]}")
    assert page.status_code == 200
    html = page.text
    assert f"Sent in conversation <code>{CONV}</code>" in html
    assert f"attachment of turn {ATTACHED_TURN}" in html
    # 10 messages before and 5 after the one that carried the file, in order.
    shown = [int(t) for t in re.findall(r'<li id="turn-(\d+)"', html)]
    assert shown == list(range(ATTACHED_TURN - 10, ATTACHED_TURN + 6))
    assert "line-04;" not in html and "line-21;" not in html and "line-05;" in html and "line-20;" in html
    # The carrying message is marked in words (and aria-current), not by colour alone.
    carried = re.findall(r'<li id="turn-(\d+)"[^>]*aria-current="true"', html)
    assert carried == [str(ATTACHED_TURN)]
    assert html.count("This message carried the file under review.") == 1
    # Behaviour marks as in conversation tasks: the passage marked and named in brackets.
    assert '<mark data-behaviour="secrecy">' in html and "[secrecy]" in html
    views = _conversation_views(db)
    assert len(views) == 1
    v = views[0]
    assert (v.actor, v.object_type, v.object_id, v.purpose) == (f"staff:{cs_id}", "conversation", CONV, "review.task")
    assert v.details == {"turns": [ATTACHED_TURN - 10, ATTACHED_TURN + 5]} and v.source_ip == "127.0.0.1"

    # A plain upload was sent in no message: no conversation section and no conversation read.
    page = c2.get(f"/console/tasks/{tasks[plain['id']]}")
    assert page.status_code == 200 and 'id="conv-h"' not in page.text and "Sent in conversation" not in page.text
    assert len(_conversation_views(db)) == 1


def test_attachments_of_another_integration_are_not_linked(server: LiveServer, api_key: str, db: Database) -> None:
    from haven.core.auth import SCOPES

    other_key = make_key(db, [s for s in SCOPES if s != "admin"])
    with server.client(api_key) as c:
        item = c.post("/v1/content", files={"file": ("a.jpg", encode(sample("coffee")))}).json()
    with server.client(other_key) as c:
        r = c.post("/v1/messages", json=_msg(1, "look", [{"content_id": item["id"]}]))
        assert r.status_code == 200, r.text
    with db.session() as s:
        assert s.scalars(select(MessageAttachment)).all() == []


def test_next_skips_a_window_full_of_tasks_that_exclude_the_reviewer(db: Database) -> None:
    """Twelve appeals, more than "next" reads at once, all decided before by two people (the second
    only in the details); a later appeal must still reach the second person."""
    first, _ = make_staff(db, "a@example.org", ["senior"], enrol=False)
    second, _ = make_staff(db, "b@example.org", ["senior"], enrol=False)
    third, _ = make_staff(db, "c@example.org", ["senior"], enrol=False)
    t0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    with db.session() as s:
        for i in range(12):
            create_task(
                s,
                queue="appeals",
                subject_type="account",
                subject_id=f"acct-{i}",
                exclude_staff=first,
                details={"appeal_id": f"ap-{i}", "exclude_staff": [first, second]},
                created_at=t0 + timedelta(minutes=i),
            )
        later = create_task(
            s, queue="appeals", subject_type="account", subject_id="acct-late", created_at=t0 + timedelta(hours=1)
        )
        assert later is not None
        later_id = later.id
        assert s.scalar(select(ReviewTaskExclusion.staff_id).where(ReviewTaskExclusion.staff_id == second).limit(1))
    with db.session() as s:
        got = claim_next(s, reviewer(db, second), "appeals")
        assert got is not None and got.id == later_id
    with db.session() as s:
        assert claim_next(s, reviewer(db, first), "appeals") is None  # the later one is held by `second`
    with db.session() as s:
        got = claim_next(s, reviewer(db, third), "appeals")
        assert got is not None and got.subject_id == "acct-0"


# --- the migration's backfill -------------------------------------------------------------------


@pytest.fixture(params=["sqlite"] + (["postgres"] if PG_URL else []))
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (not the migrated template): the test migrates it step by step."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mig.db'}"
        return
    import psycopg

    admin = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"haven_mig_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_migration_backfills_links_and_exclusions(fresh_url: str) -> None:
    upgrade(fresh_url, "0100_review")
    upgrade(fresh_url, "0400_classify")
    db = Database(fresh_url)
    try:
        with db.session() as s:
            s.add(Conversation(id="c1", integration_id="INT1", participants=["a", "b"], state={}))
            ours, theirs = new_id(), new_id()
            for cid, integ in ((ours, "INT1"), (theirs, "INT2")):
                s.add(ContentItem(id=cid, integration_id=integ, media_kind="image", verdict="block", verdict_rule="x"))
            s.add(
                ConversationMessage(
                    id="M1",
                    conversation_id="c1",
                    turn=1,
                    sender="a",
                    recipients=["b"],
                    attachments=[{"content_id": ours}, {"content_id": theirs}, {"sha256": "0" * 64}],
                )
            )
            s.add(
                ConversationMessage(id="M2", conversation_id="c1", turn=2, sender="b", recipients=["a"], attachments=[])
            )
            t = datetime(2026, 5, 4, tzinfo=UTC)
            s.add(
                ReviewTask(
                    id="T1",
                    queue="appeals",
                    subject_type="account",
                    subject_id="x",
                    rank_at=t,
                    due_at=t,
                    exclude_staff="S1",
                    details={"exclude_staff": ["S1", "S2"]},
                )
            )
        upgrade(fresh_url)  # every head, as `haven db upgrade`
        with db.session() as s:
            assert [
                tuple(r) for r in s.execute(select(MessageAttachment.message_id, MessageAttachment.content_id))
            ] == [("M1", ours)]
            assert sorted(
                s.scalars(select(ReviewTaskExclusion.staff_id).where(ReviewTaskExclusion.task_id == "T1"))
            ) == [
                "S1",
                "S2",
            ]
    finally:
        db.dispose()
