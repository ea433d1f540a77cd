"""Each data class disappears or is pseudonymised on schedule under a frozen clock, on SQLite and
PostgreSQL, except what a legal hold, a preserved report or an open case protects."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from haven.banks.models import Match
from haven.classify.models import Conversation, ConversationMessage
from haven.core.clock import advance, frozen
from haven.core.db import Database
from haven.core.jobs import work
from haven.core.ledger import record_event
from haven.core.models import AuditRecord, Event, Integration
from haven.core.settings import Settings
from haven.enforce.notices.models import UserReport
from haven.evidence.models import EvidenceObject, LegalHold
from haven.privacy.sweeps import run_sweep, schedule
from haven.screening import quarantine
from haven.screening.models import ContentItem, QuarantineObject

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _integration(db: Database) -> str:
    with db.session() as s:
        i = Integration(name="svc", scopes=["intake"])
        s.add(i)
        s.flush()
        return i.id


def _conversation(db: Database, integ: str, cid: str, people: list[str], *, flagged: bool = False) -> None:
    with db.session() as s:
        s.add(
            Conversation(
                id=cid,
                integration_id=integ,
                participants=people,
                turns=2,
                grooming_score=0.25,
                state={
                    "fired": [{"behaviour": "b", "evidence": "a passage", "message_id": "m", "turn": 1}],
                    "turns": 2,
                },
                flagged_at=T0 if flagged else None,
                preserved=flagged,
            )
        )
        for turn, sender in enumerate(people, 1):
            s.add(
                ConversationMessage(conversation_id=cid, turn=turn, sender=sender, recipients=[], text=f"hello {turn}")
            )


def _hold(db: Database, account_id: str) -> None:
    with db.session() as s:
        s.add(LegalHold(account_id=account_id, reason="preservation request", created_by="staff:legal"))


def _messages(db: Database, cid: str) -> int:
    with db.session() as s:
        return (
            s.scalar(
                select(func.count()).select_from(ConversationMessage).where(ConversationMessage.conversation_id == cid)
            )
            or 0
        )


def test_messages_of_never_flagged_conversations_go_after_30_days(db: Database, settings: Settings) -> None:
    with frozen(T0):
        integ = _integration(db)
        _conversation(db, integ, "c-plain", ["a1", "a2"])
        _conversation(db, integ, "c-flagged", ["a3", "a4"], flagged=True)
        _conversation(db, integ, "c-held", ["a5", "a6"])
        _hold(db, "a6")
        advance(timedelta(days=29, hours=23))
        assert run_sweep(db, "messages.unflagged", settings) == 0
        assert _messages(db, "c-plain") == 2
        advance(timedelta(hours=2))
        assert run_sweep(db, "messages.unflagged", settings) == 2
    assert _messages(db, "c-plain") == 0
    assert _messages(db, "c-flagged") == 2
    assert _messages(db, "c-held") == 2
    with db.session() as s:
        conv = s.get(Conversation, "c-plain")
        assert conv is not None
        assert conv.grooming_score == 0.25 and conv.turns == 2  # numbers stay
        assert conv.state == {"fired": [{"behaviour": "b", "turn": 1}], "turns": 2}  # text goes
        record = s.scalars(select(AuditRecord).where(AuditRecord.action == "privacy.sweep")).all()[-1]
        assert record.object_id == "messages.unflagged" and record.details == {"count": 2, "period_days": 30}


def test_period_is_configurable_per_deployment(db: Database, settings: Settings) -> None:
    configured = settings.model_copy(update={"privacy_retention_days": {"messages.unflagged": 7}})
    with frozen(T0):
        _conversation(db, _integration(db), "c1", ["a1", "a2"])
        advance(timedelta(days=8))
        assert run_sweep(db, "messages.unflagged", settings) == 0
        assert run_sweep(db, "messages.unflagged", configured) == 2


def _content(s, integ: str, verdict: str, uploader: str) -> ContentItem:  # type: ignore[no-untyped-def]
    c = ContentItem(
        integration_id=integ,
        media_kind="image",
        uploader=uploader,
        recipients=["r1"],
        ip="198.51.100.7",
        external_id=f"ext-{uploader}",
        verdict=verdict,
        verdict_rule="r",
        sha256="0" * 64,
    )
    s.add(c)
    s.flush()
    return c


def test_allowed_content_loses_uploader_then_row_and_protected_content_stays(db: Database, settings: Settings) -> None:
    with frozen(T0):
        integ = _integration(db)
        with db.session() as s:
            plain = _content(s, integ, "allow", "u1").id
            blocked = _content(s, integ, "block", "u2").id
            evidence = _content(s, integ, "allow", "u3").id
            s.add(
                EvidenceObject(
                    content_id=evidence,
                    account_id="u3",
                    kind="media",
                    file_name="x.bin",
                    size_bytes=1,
                    sha256="1" * 64,
                    path="/nonexistent",
                    key_provider="local",
                    key_id="k",
                    created_by="system",
                )
            )
            s.add(Match(content_id=plain, integration_id=integ, bank_id="b", entry_id="e", signal_type="sha256"))
        advance(timedelta(days=31))
        assert run_sweep(db, "content.uploader", settings) == 1
        with db.session() as s:
            row = s.get(ContentItem, plain)
            assert row is not None and row.uploader is None and row.ip is None and row.recipients == []
            assert row.sha256 == "0" * 64 and row.verdict == "allow"
            assert s.get(ContentItem, blocked).uploader == "u2"  # type: ignore[union-attr]
            assert s.get(ContentItem, evidence).ip == "198.51.100.7"  # type: ignore[union-attr]
        assert run_sweep(db, "content.allowed", settings) == 0
        advance(timedelta(days=60))
        assert run_sweep(db, "content.allowed", settings) == 1
    with db.session() as s:
        assert s.get(ContentItem, plain) is None
        assert s.get(ContentItem, blocked) is not None and s.get(ContentItem, evidence) is not None
        match = s.scalars(select(Match)).one()
        assert match.content_id is None and match.bank_id == "b"  # the count stays, unlinked


def _decision_event(db: Database, content_id: str, decision: str) -> None:
    with db.session() as s:
        record_event(
            s,
            "review.decision",
            subject_type="content",
            subject_id=content_id,
            actor="staff:r1",
            data={
                "decision_id": "d1",
                "task_id": "t1",
                "queue": "hold",
                "decision": decision,
                "category": None,
                "classification": None,
                "annotations": [],
                "reviewer": "staff:r1",
                "uploader": "u1",
                "content_ids": [content_id],
                "automated": False,
                "overturns": None,
            },
        )


def test_cleared_held_media_is_deleted_at_the_decision(db: Database, settings: Settings) -> None:
    integ = _integration(db)
    with db.session() as s:
        cleared = _content(s, integ, "hold", "u1").id
        reported = _content(s, integ, "hold", "u2").id
        q1 = quarantine.put(s, settings, content_id=cleared, data=b"benign stand-in", content_type="image/png")
        q2 = quarantine.put(s, settings, content_id=reported, data=b"benign stand-in 2", content_type="image/png")
        s.add(
            EvidenceObject(
                content_id=reported,
                account_id="u2",
                kind="media",
                file_name="x.bin",
                size_bytes=1,
                sha256="1" * 64,
                path="/nonexistent",
                key_provider="local",
                key_id="k",
                created_by="system",
            )
        )
        p1, p2 = Path(q1.path), Path(q2.path)
    assert p1.exists() and p2.exists()
    _decision_event(db, cleared, "no_violation")
    _decision_event(db, reported, "no_violation")
    while work(db, once=True):
        pass
    assert not p1.exists()  # gone at the decision, no sweep needed
    assert p2.exists()  # evidence of a report keeps it
    with db.session() as s:
        assert s.get(QuarantineObject, q1.id).deleted_at is not None  # type: ignore[union-attr]
        assert s.get(QuarantineObject, q2.id).deleted_at is None  # type: ignore[union-attr]
    assert run_sweep(db, "media.cleared", settings) == 0  # nothing left for the fallback


def test_old_match_log_and_ledger_payloads_are_pseudonymised_counts_kept(db: Database, settings: Settings) -> None:
    with frozen(T0):
        integ = _integration(db)
        with db.session() as s:
            c = _content(s, integ, "block", "u9").id
            s.add(Match(content_id=c, integration_id=integ, bank_id="b", entry_id="e", signal_type="sha256"))
            record_event(
                s,
                "account.age_band_set",
                subject_type="account",
                subject_id="u9",
                actor="integration:x",
                data={"old": None, "new": "13-15", "source": "declared"},
            )
            record_event(
                s,
                "account.blocked",
                subject_type="account",
                subject_id="u8",
                actor="integration:x",
                data={"blocked": "u9"},
            )
            record_event(
                s,
                "account.age_band_set",
                subject_type="account",
                subject_id="u-held",
                actor="integration:x",
                data={"old": None, "new": "13-15", "source": "declared"},
            )
        _hold(db, "u-held")
        advance(timedelta(days=364))
        assert run_sweep(db, "ledger.payloads", settings) == 0
        assert run_sweep(db, "matchlog", settings) == 0
        advance(timedelta(days=2))
        assert run_sweep(db, "ledger.payloads", settings) == 2
        assert run_sweep(db, "matchlog", settings) == 1
    with db.session() as s:
        events = {e.subject_id: e for e in s.scalars(select(Event).where(Event.type == "account.age_band_set"))}
        assert len(events) == 2  # the count by type is unchanged
        assert "u9" not in events and "u-held" in events
        pseud = next(e for k, e in events.items() if k != "u-held")
        assert pseud.subject_id.startswith("pseud:") and pseud.actor == "pseudonymised:integration"
        assert pseud.data["new"] == "13-15"
        assert s.scalars(select(Match)).one().content_id is None
        blocked = s.scalars(select(Event).where(Event.type == "account.blocked")).one()
        assert blocked.data["blocked"].startswith("pseud:") and blocked.subject_id.startswith("pseud:")


def test_reporter_contact_details_go_a_year_after_resolution(db: Database, settings: Settings) -> None:
    with frozen(T0):
        integ = _integration(db)
        with db.session() as s:
            s.add(
                UserReport(
                    case_id="case1",
                    integration_id=integ,
                    reporter_id="rep1",
                    reporter_name="Sam",
                    reporter_email="sam@example.org",
                    category="other",
                    explanation="x",
                    good_faith=True,
                    resolved_at=T0,
                )
            )
            s.add(
                UserReport(
                    case_id="case2",
                    integration_id=integ,
                    reporter_id="rep2",
                    reporter_name="Kim",
                    reporter_email="kim@example.org",
                    category="other",
                    explanation="y",
                    good_faith=True,
                )
            )
        advance(timedelta(days=366))
        assert run_sweep(db, "reports.contact", settings) == 1
    with db.session() as s:
        done = s.scalars(select(UserReport).where(UserReport.case_id == "case1")).one()
        open_ = s.scalars(select(UserReport).where(UserReport.case_id == "case2")).one()
        assert done.reporter_email is None and done.reporter_name is None and done.reporter_id.startswith("pseud:")  # type: ignore[union-attr]
        assert open_.reporter_email == "kim@example.org"


def test_orphaned_quarantine_files_are_swept(db: Database, settings: Settings) -> None:
    with db.session() as s:
        kept = quarantine.put(s, settings, content_id="c1", data=b"benign", content_type="image/png")
        kept_path = Path(kept.path)
    root = settings.var_dir / "quarantine"
    orphan, young = root / "01ORPHAN000000000000000000.bin", root / "01YOUNG0000000000000000000.bin"
    orphan.write_bytes(b"left by a rolled-back commit")
    young.write_bytes(b"its row may be about to commit")
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    os.utime(orphan, (two_days_ago, two_days_ago))
    os.utime(kept_path, (two_days_ago, two_days_ago))
    assert run_sweep(db, "files.orphans", settings) == 1
    assert not orphan.exists() and young.exists() and kept_path.exists()


def test_schedule_queues_one_job_per_class_once_a_day(db: Database) -> None:
    from haven.privacy.sweeps import SWEEPS

    with frozen(T0):
        assert schedule(db) == len(SWEEPS)
        assert schedule(db) == 0


def test_contacts_jobs_webhooks_sessions_activity_and_audit_on_schedule(db: Database, settings: Settings) -> None:
    from haven.accounts.models import Contact
    from haven.core.clock import new_id
    from haven.core.ledger import audit
    from haven.core.models import Job
    from haven.enforce.models import Delivery
    from haven.staff.models import StaffMember, StaffSession
    from haven.youth.models import Activity

    with frozen(T0):
        _hold(db, "kid-held")
        with db.session() as s:
            s.add_all([Contact(sender="adult-1", recipient="kid-1"), Contact(sender="adult-2", recipient="kid-held")])
            s.add_all(
                [
                    Activity(id=new_id(), account_id="kid-1", kind="time"),
                    Activity(id=new_id(), account_id="kid-held", kind="time"),
                ]
            )
            s.add(Job(kind="x", payload={"account_id": "kid-1"}, status="done", finished_at=T0, run_at=T0))
            s.add(Job(kind="x", payload={}, status="queued", run_at=T0))
            s.add(
                Delivery(
                    action_type="content.remove",
                    idempotency_key="k1",
                    payload={"account_id": "kid-1"},
                    subject_type="account",
                    subject_id="kid-1",
                    status="delivered",
                    delivered_at=T0,
                )
            )
            s.add(
                Delivery(
                    action_type="content.remove",
                    idempotency_key="k2",
                    payload={},
                    subject_type="account",
                    subject_id="kid-1",
                    status="pending",
                )
            )
            staff = StaffMember(email="r@example.org", display_name="R", roles=["reviewer"])
            s.add(staff)
            s.flush()
            s.add(
                StaffSession(staff_id=staff.id, token_sha256="a" * 64, csrf_token="c", expires_at=T0, ip="203.0.113.5")
            )
            audit(
                s,
                actor=f"staff:{staff.id}",
                action="media.view",
                object_type="content",
                object_id="c1",
                source_ip="203.0.113.5",
            )
            audit(s, actor=f"staff:{staff.id}", action="account.view", object_type="account", object_id="kid-held")
        advance(timedelta(days=29))
        for name in ("jobs", "webhooks", "staff.sessions"):
            assert run_sweep(db, name, settings) == 0, name
        advance(timedelta(days=2))
        assert run_sweep(db, "jobs", settings) == 1
        assert run_sweep(db, "webhooks", settings) == 1
        assert run_sweep(db, "staff.sessions", settings) == 1
        assert run_sweep(db, "youth.activity", settings) == 0
        advance(timedelta(days=60))
        assert run_sweep(db, "youth.activity", settings) == 1  # the held child's stays
        advance(timedelta(days=280))
        assert run_sweep(db, "contacts", settings) == 1
        assert run_sweep(db, "audit", settings) == 0
        advance(timedelta(days=730))
        assert run_sweep(db, "audit", settings) == 1
    with db.session() as s:
        assert [c.recipient for c in s.scalars(select(Contact))] == ["kid-held"]
        assert [a.account_id for a in s.scalars(select(Activity))] == ["kid-held"]
        assert [j.status for j in s.scalars(select(Job).where(Job.kind == "x"))] == ["queued"]
        assert [d.status for d in s.scalars(select(Delivery))] == ["pending"]
        assert s.scalars(select(StaffSession)).all() == []
        view = s.scalars(select(AuditRecord).where(AuditRecord.action == "media.view")).one()
        assert view.actor.startswith("pseud:staff:") and view.source_ip is None and view.object_id == "c1"
        held = s.scalars(select(AuditRecord).where(AuditRecord.action == "account.view")).one()
        assert held.actor.startswith("staff:")


def test_expired_age_signals_of_a_held_account_stay(db: Database, settings: Settings) -> None:
    """Youth's own retention rule deletes an expired facial estimate, except for an account under a
    legal hold: the age result may be what a preservation request needs."""
    from haven.youth.models import AgeSignal

    with frozen(T0):
        _hold(db, "teen-held")
        with db.session() as s:
            for account in ("teen-free", "teen-held"):
                s.add(
                    AgeSignal(
                        id=f"sig-{account}",
                        account_id=account,
                        method="facial_estimation",
                        provider="p",
                        level="enhanced",
                        min_age=13,
                        max_age=15,
                        age_band="13_15",
                        observed_at=T0,
                        actor="test",
                    )
                )
        advance(timedelta(days=30))
        assert run_sweep(db, "youth.signals", settings) == 0
        advance(timedelta(days=800))
        assert run_sweep(db, "youth.signals", settings) == 1
    with db.session() as s:
        assert [a.account_id for a in s.scalars(select(AgeSignal))] == ["teen-held"]
