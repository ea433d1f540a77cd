"""Review on the real database: tasks from verdicts, priority, exclusive claiming with leases
(concurrently, on SQLite and PostgreSQL), decisions and their `review.decision` event, banking of
confirmed media, escalation, second opinions and the training gate."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from haven.core import clock, jobs
from haven.core.db import Database
from haven.core.errors import Conflict, Forbidden, Invalid
from haven.core.models import Event
from haven.core.settings import Settings
from haven.review import create_task, file_views
from haven.review.models import ReviewTask
from haven.review.service import claim_next, decide, get_task, queues_for
from tests.conftest import LiveServer
from tests.helpers import encode, sample
from tests.review.fixtures import bank_and_flag, make_staff, reviewer

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def _views(db: Database, content_id: str) -> list:  # type: ignore[type-arg]
    with db.sessions() as s:
        return file_views(s, content_id)


def _events(db: Database, type_: str) -> list[Event]:
    with db.session() as s:
        return list(s.scalars(select(Event).where(Event.type == type_).order_by(Event.created_at, Event.id)))


def test_verdicts_become_tasks_and_confirmed_media_is_banked(
    server: LiveServer, api_key: str, db: Database, settings: Settings
) -> None:
    original = encode(sample("astronaut"), quality=95)
    copy = encode(sample("astronaut").resize((300, 300)), quality=50)
    with server.client(api_key) as c:
        body = bank_and_flag(c, original, copy)
        assert body["verdict"]["action"] == "block"
        allowed = c.post("/v1/content", files={"file": ("c.jpg", encode(sample("coffee")))}).json()
        assert allowed["verdict"]["action"] == "allow"
    jobs.work(db, once=True)
    jobs.work(db, once=True)  # idempotent: no second task for the same event
    with db.session() as s:
        tasks = s.scalars(select(ReviewTask)).all()
        assert [(t.queue, t.subject_id, t.child_safety, t.severity) for t in tasks] == [
            ("known_material", body["id"], True, 4)
        ]
        assert tasks[0].uploader == "acct-1" and tasks[0].content_ids == [body["id"]]
    sid, _ = make_staff(db, "cs@example.org", ["child_safety_reviewer"])
    r = reviewer(db, sid, "sess-1")
    with db.session() as s:
        task = claim_next(s, r, "known_material")
        assert task is not None and task.subject_id == body["id"]
    with db.session() as s:
        task = get_task(s, task.id)
        with pytest.raises(Invalid):  # banked categories need the media classified
            decide(s, settings, task, r, decision="violation", category="csam")
        d = decide(
            s,
            settings,
            task,
            r,
            decision="violation",
            category="csam",
            classification="A2",
            annotations=["generative_ai"],
            note="confirmed",
        )
        decision_id = d.id
    (ev,) = _events(db, "review.decision")
    assert ev.subject_type == "content" and ev.subject_id == body["id"] and ev.actor == f"staff:{sid}"
    assert ev.data == {
        "decision_id": decision_id,
        "task_id": task.id,
        "queue": "known_material",
        "decision": "violation",
        "category": "csam",
        "classification": "A2",
        "annotations": ["generative_ai"],
        "reviewer": sid,
        "uploader": "acct-1",
        "content_ids": [body["id"]],
        "automated": False,
        "overturns": None,
    }
    # The bank local_confirmed now holds the media's hashes (PDQ with centre crops, MD5, SHA-1, SHA-256).
    from haven.banks.models import Bank, BankEntry

    with db.session() as s:
        bank = s.scalar(select(Bank).where(Bank.name == "local_confirmed"))
        assert bank is not None and bank.kind == "local_confirmed"
        entries = s.scalars(select(BankEntry).where(BankEntry.bank_id == bank.id)).all()
        kinds = sorted(e.signal_type for e in entries if e.variant_of is None)
        assert kinds == ["md5", "pdq", "sha1", "sha256"]
        assert any(e.variant for e in entries) and all(e.classification == "A2" for e in entries)
    # A re-upload of the same bytes is caught by the local bank; a block only by local_confirmed
    # entries needs nobody to look again.
    with server.client(api_key) as c:
        c.delete("/v1/banks/known")
        again = c.post("/v1/content", files={"file": ("y.jpg", copy)}).json()
    assert again["verdict"]["action"] == "block"
    assert {m["bank"] for m in again["matches"]} == {"local_confirmed"}
    jobs.work(db, once=True)
    with db.session() as s:
        assert s.scalar(select(ReviewTask).where(ReviewTask.subject_id == again["id"])) is None
    assert _views(db, body["id"]) == []  # banking read the bytes, nobody revealed them


def test_priority_orders_by_severity_score_and_age(db: Database) -> None:
    sid, _ = make_staff(db, "r@example.org", ["reviewer"])
    with clock.frozen(T0), db.session() as s:
        old = create_task(
            s,
            queue="user_reports",
            subject_type="account",
            subject_id="old",
            severity=1,
            created_at=T0 - timedelta(hours=9),
        )
        severe = create_task(s, queue="user_reports", subject_type="account", subject_id="severe", severity=3)
        scored = create_task(
            s, queue="user_reports", subject_type="account", subject_id="scored", severity=1, score=0.9
        )
        plain = create_task(s, queue="user_reports", subject_type="account", subject_id="plain", severity=1)
        assert create_task(s, queue="user_reports", subject_type="account", subject_id="x", source_key="k") is not None
        assert create_task(s, queue="user_reports", subject_type="account", subject_id="x", source_key="k") is None
        with pytest.raises(Invalid):
            create_task(s, queue="nope", subject_type="account", subject_id="y")
        assert severe and old and scored and plain
        assert plain.due_at == T0 + timedelta(hours=24)
    order = []
    r = reviewer(db, sid)
    with clock.frozen(T0):
        for _ in range(4):
            with db.session() as s:
                t = claim_next(s, r, "user_reports")
                assert t is not None
                order.append(t.subject_id)
                t.status = "done"  # finish it so the next claim moves on
    # severe: -12 h; old: -9 h -4 h = -13 h; scored: -4 h -3.6 h; plain: -4 h.
    assert order == ["old", "severe", "scored", "plain"]


def test_concurrent_claims_never_share_a_task(db: Database) -> None:
    ids = [make_staff(db, f"c{i}@example.org", ["child_safety_reviewer"])[0] for i in range(4)]
    with db.session() as s:
        for i in range(30):
            create_task(s, queue="known_material", subject_type="content", subject_id=f"c{i}", severity=i % 4)
    got: dict[str, list[str]] = {sid: [] for sid in ids}
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(ids))

    def work(sid: str) -> None:
        try:
            r = reviewer(db, sid)
            barrier.wait()
            while True:
                with db.session() as s:
                    t = claim_next(s, r, "known_material")
                    if t is None:
                        return
                    got[sid].append(t.id)
                    t.status = "done"
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(sid,)) for sid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    claimed = [tid for lst in got.values() for tid in lst]
    assert len(claimed) == 30 and len(set(claimed)) == 30
    with db.session() as s:
        claims = s.scalars(select(Event).where(Event.type == "review.task_claimed")).all()
        assert len(claims) == 30


def test_lease_is_exclusive_until_it_expires(db: Database, settings: Settings) -> None:
    a, _ = make_staff(db, "a@example.org", ["reviewer"])
    b, _ = make_staff(db, "b@example.org", ["reviewer"])
    ra, rb = reviewer(db, a), reviewer(db, b)
    with clock.frozen(T0):
        with db.session() as s:
            create_task(s, queue="user_reports", subject_type="account", subject_id="u1")
        with db.session() as s:
            t = claim_next(s, ra)
            assert t is not None
        with db.session() as s:
            assert claim_next(s, rb) is None
            assert claim_next(s, ra).id == t.id  # type: ignore[union-attr]  # one's own task again
        clock.advance(timedelta(minutes=11))
        with db.session() as s:
            t2 = claim_next(s, rb)
            assert t2 is not None and t2.id == t.id
        with db.session() as s, pytest.raises(Conflict):  # a's lease is gone
            decide(s, settings, get_task(s, t.id), ra, decision="no_violation")
        with db.session() as s:
            decide(s, settings, get_task(s, t.id), rb, decision="no_violation")


def test_escalation_second_opinion_overturn_and_access(db: Database, settings: Settings) -> None:
    cs, _ = make_staff(db, "cs@example.org", ["child_safety_reviewer"])
    cs2, _ = make_staff(db, "cs2@example.org", ["child_safety_reviewer"])
    senior, _ = make_staff(db, "sr@example.org", ["senior"])
    senior_cs, _ = make_staff(db, "srcs@example.org", ["senior", "child_safety_reviewer"])
    untrained, _ = make_staff(db, "new@example.org", ["child_safety_reviewer"], trained=False)
    plain, _ = make_staff(db, "plain@example.org", ["reviewer"])
    R_cs, R_cs2, R_sr, R_srcs, R_un, R_plain = (reviewer(db, x) for x in (cs, cs2, senior, senior_cs, untrained, plain))
    with db.session() as s:
        create_task(
            s, queue="grooming", subject_type="conversation", subject_id="conv-1", severity=3, uploader="acct-7"
        )
    with db.session() as s, pytest.raises(Forbidden) as exc:
        claim_next(s, R_un, "grooming")
    assert exc.value.code == "training_required"
    with db.session() as s, pytest.raises(Forbidden):
        claim_next(s, R_plain, "grooming")
    assert [q.id for q in queues_for(R_un)] == ["financial", "user_reports"]  # neither child-safety
    # Second opinion: the asker never gets the new task.
    with db.session() as s:
        t = claim_next(s, R_cs, "grooming")
        assert t is not None
        decide(s, settings, get_task(s, t.id), R_cs, decision="second_opinion", note="unsure")
    with db.session() as s:
        assert claim_next(s, R_cs, "grooming") is None
        t2 = claim_next(s, R_cs2, "grooming")
        assert t2 is not None and t2.parent_decision_id is not None
        first = decide(s, settings, get_task(s, t2.id), R_cs2, decision="no_violation")
    # Escalation of a child-safety task: a senior without the child-safety role never sees it.
    with db.session() as s:
        create_task(s, queue="grooming", subject_type="conversation", subject_id="conv-1", severity=3)
    with db.session() as s:
        t3 = claim_next(s, R_cs, "grooming")
        assert t3 is not None
        decide(s, settings, get_task(s, t3.id), R_cs, decision="escalate", note="looks like grooming")
    with db.session() as s:
        assert claim_next(s, R_sr, "escalations") is None
        t4 = claim_next(s, R_srcs, "escalations")
        assert t4 is not None and t4.child_safety
        with pytest.raises(Invalid):
            decide(s, settings, get_task(s, t4.id), R_srcs, decision="escalate")
        final = decide(s, settings, get_task(s, t4.id), R_srcs, decision="violation", category="grooming")
        assert final.overturns == first.id
    decisions = [e.data["decision"] for e in _events(db, "review.decision")]
    assert decisions == ["second_opinion", "no_violation", "escalate", "violation"]
    assert _events(db, "review.decision")[-1].data["overturns"] == first.id
