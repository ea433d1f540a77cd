"""Appeals (Art 20) rules, overturns from review, warnings without strikes, and law-enforcement
holds on statements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from haven.accounts.models import Account
from haven.core import clock, jobs
from haven.core.clock import new_id
from haven.core.db import Database
from haven.core.errors import Forbidden, Invalid
from haven.core.models import AuditRecord, Event
from haven.enforce import appeals, statements
from haven.enforce.decisions import DecisionInput, apply, find_decision
from haven.enforce.models import Delivery, StatementOfReasons
from haven.screening.models import ContentItem
from tests.enforce.test_webhook_flow import review_decision

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def _content(s, uploader: str) -> str:  # type: ignore[no-untyped-def]
    if s.get(Account, uploader) is None:
        s.add(Account(id=uploader))
    item = ContentItem(
        integration_id="i", media_kind="image", uploader=uploader, verdict="allow", verdict_rule="no_match.allow"
    )
    s.add(item)
    s.flush()
    return item.id


def _deliveries(s, kind: str | None = None) -> list[Delivery]:  # type: ignore[no-untyped-def]
    rows = list(s.scalars(select(Delivery).order_by(Delivery.created_at, Delivery.id)))
    return [r for r in rows if kind is None or r.action_type == kind]


def test_appeal_window_reviewer_and_automation_rules(db: Database) -> None:
    with clock.frozen(T0), db.session() as s:
        cid = _content(s, "u1")
        d = apply(
            s,
            DecisionInput(
                "review", "rev-dec-1", "content", cid, "ncii", "u1", content_ids=[cid], deciders=["staff:alice"]
            ),
            actor="staff:alice",
        )
        # by the review decision id too
        assert find_decision(s, "rev-dec-1") is d
        a = appeals.file(s, decision_ref="rev-dec-1", appellant="u1", statement="not me", actor="integration:x")
        with pytest.raises(Forbidden) as same:
            appeals.resolve(s, a.id, upheld=True, reviewer="staff:alice", reason="ok")
        assert same.value.code == "same_reviewer"
        with pytest.raises(Forbidden) as auto:
            appeals.resolve(s, a.id, upheld=True, reviewer="system:classifier", reason="ok")
        assert auto.value.code == "human_review_required"
        with pytest.raises(Forbidden):
            appeals.resolve(s, a.id, upheld=True, reviewer="staff:bob", reason="ok", automated=True)
        rejected = appeals.resolve(s, a.id, upheld=False, reviewer="staff:bob", reason="the match was confirmed.")
        assert rejected.status == "rejected"
        assert s.get(Account, "u1").state == "restricted"  # type: ignore[union-attr]  (the decision stands)
        outcome = [r.payload for r in _deliveries(s, "notice.deliver") if r.payload["kind"] == "appeal_outcome"]
        assert outcome and "stands" in outcome[0]["text"] and "court" in outcome[0]["text"]
        # The window: six months by default.
        cid2 = _content(s, "u2")
        d2 = apply(
            s,
            DecisionInput(
                "review", new_id(), "content", cid2, "adult_nudity", "u2", content_ids=[cid2], deciders=["staff:alice"]
            ),
            actor="staff:alice",
        )
        clock.advance(timedelta(days=184))
        with pytest.raises(Invalid) as late:
            appeals.file(s, decision_ref=d2.id, appellant="u2", statement="late", actor="integration:x")
        assert late.value.code == "appeal_window_closed"
        assert d.id != d2.id


def test_review_overturn_without_appeal_and_escalations_ignored(db: Database) -> None:
    with db.session() as s:
        cid = _content(s, "u3")
    first = new_id()
    review_decision(
        db, subject_id=cid, decision_id=first, category="obscene_to_minor", uploader="u3", content_ids=[cid]
    )
    review_decision(db, subject_id=cid, decision="escalate", category="obscene_to_minor")
    jobs.work(db, once=True, kinds=["event:enforcement"])
    with db.session() as s:
        assert len(_deliveries(s, "content.remove")) == 1
    # A senior reviewer overturns the decision (no appeal): restore and reinstate.
    review_decision(db, subject_id=cid, decision="no_violation", overturns=first, actor="staff:senior")
    jobs.work(db, once=True, kinds=["event:enforcement"])
    with db.session() as s:
        assert [r.payload["content_id"] for r in _deliveries(s, "content.restore")] == [cid]
        assert len(_deliveries(s, "account.reinstate")) == 1
        assert s.get(Account, "u3").state == "active"  # type: ignore[union-attr]
    # A same-reviewer appeal decision through the event is refused and recorded, not retried forever.
    second = new_id()
    review_decision(db, subject_id=cid, decision_id=second, category="ncii", uploader="u3", content_ids=[cid])
    jobs.work(db, once=True, kinds=["event:enforcement"])
    with db.session() as s:
        dec = find_decision(s, second)
        assert dec is not None
        appeal = appeals.file(s, decision_ref=second, appellant="u3", statement="no", actor="integration:x")
    review_decision(db, subject_id=cid, decision="no_violation", appeal_id=appeal.id, actor="staff:rev-1")
    jobs.work(db, once=True, kinds=["event:enforcement"])
    with db.session() as s:
        refused = s.scalar(select(Event).where(Event.type == "enforcement.refused"))
        assert refused is not None and refused.data["code"] == "same_reviewer"
        assert appeals.get(s, appeal.id).status == "pending"


def test_first_low_offence_is_a_warning_without_a_strike(db: Database) -> None:
    with db.session() as s:
        s.add(Account(id="u4"))
        s.flush()
        d = apply(
            s,
            DecisionInput("review", new_id(), "account", "u4", "adult_nudity", "u4", deciders=["staff:a"]),
            actor="staff:a",
        )
        assert d.ladder["action"] == "warning" and d.ladder["points_added"] == 0
        warning = _deliveries(s, "notice.deliver")
        assert [w.payload["kind"] for w in warning] == ["warning"] and "no strike" in warning[0].payload["text"]
        assert s.scalars(select(StatementOfReasons)).all() == []  # no restriction, no statement
        assert s.get(Account, "u4").state == "active"  # type: ignore[union-attr]


def test_law_enforcement_hold_delays_the_notice_with_an_audit_record(db: Database) -> None:
    with db.session() as s:
        cid = _content(s, "u5")
        hold = statements.place_hold(
            s, account_id="u5", reference="LE-2026-77", reason="ongoing investigation", until=None, actor="staff:legal"
        )
        d = apply(
            s,
            DecisionInput("review", new_id(), "content", cid, "ncii", "u5", content_ids=[cid], deciders=["staff:a"]),
            actor="staff:a",
        )
        st = s.scalar(select(StatementOfReasons).where(StatementOfReasons.decision_id == d.id))
        assert st is not None and st.notice_status == "held"
        assert _deliveries(s, "notice.deliver") == []
        restrict = _deliveries(s, "account.restrict")[0]
        assert restrict.payload["notify_user"] is False
        assert s.scalar(select(AuditRecord).where(AuditRecord.action == "notice.held")) is not None
        with pytest.raises(Invalid):
            statements.place_hold(s, account_id="u5", reference=" ", reason="", until=None, actor="staff:legal")
        with pytest.raises(Invalid) as naive:
            statements.place_hold(
                s, account_id="u5", reference="LE", reason="", until=datetime(2030, 1, 1), actor="staff:legal"
            )
        assert naive.value.code == "invalid_until"
        sent = statements.release_hold(s, hold.id, actor="staff:legal")
        assert [x.id for x in sent] == [st.id] and st.notice_status == "delivered"
        assert len(_deliveries(s, "notice.deliver")) == 1
        audits = {a.action for a in s.scalars(select(AuditRecord).where(AuditRecord.object_id == "u5"))}
        assert {"notice_hold.place", "notice_hold.release"} <= audits


def test_notices_in_another_locale_come_from_its_catalogue(db: Database, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from haven.enforce.settings import get_enforce_settings

    # The operator's own text template (English, marked with _()): translated by the catalogue.
    (tmp_path / "statement.txt.j2").write_text(
        "{{ subject }}\n{{ _('What we did') }}\n{% for r in restrictions %}- {{ r }}\n{% endfor %}{{ puid }}\n"
    )
    monkeypatch.setenv("HAVEN_NOTICE_LOCALE", "es-ES")
    monkeypatch.setenv("HAVEN_NOTICE_TEMPLATES_DIR", str(tmp_path))
    get_enforce_settings.cache_clear()
    try:
        with db.session() as s:
            cid = _content(s, "u6")
            d = apply(
                s,
                DecisionInput(
                    "review", new_id(), "content", cid, "adult_nudity", "u6", content_ids=[cid], deciders=["staff:a"]
                ),
                actor="staff:a",
            )
            st = s.scalar(select(StatementOfReasons).where(StatementOfReasons.decision_id == d.id))
            assert st is not None and st.locale == "es"
            assert st.subject == "Por qué restringimos tu contenido"
            assert "Qué hicimos" in st.text and "Retiramos 1 elemento(s)" in st.text and st.puid in st.text
            # The shipped HTML template, in Spanish.
            assert "<h2>Tus opciones</h2>" in st.html and 'lang="es"' in st.html and "Retiramos" in st.html
            # The Transparency Database fields stay in English.
            assert st.fields["decision_facts"].startswith("A member of our safety team")
        # A language with no catalogue falls back to English, never to a blank.
        from haven.enforce import statements

        monkeypatch.setenv("HAVEN_NOTICE_LOCALE", "fr")
        get_enforce_settings.cache_clear()
        assert statements.locale() == "en"
        assert statements.locale("es-MX") == "es"  # an account's own language wins where there is one
        assert statements.msg("en", "subject.statement", what="x") == "Why we restricted your x"
    finally:
        get_enforce_settings.cache_clear()


def test_an_appeals_queue_decision_without_appeal_id_decides_the_pending_appeal(db: Database) -> None:
    """The review console's own contract: a task in the `appeals` queue on the appealed subject."""
    with db.session() as s:
        cid = _content(s, "u7")
    first = new_id()
    review_decision(db, subject_id=cid, decision_id=first, category="ncii", uploader="u7", content_ids=[cid])
    jobs.work(db, once=True, kinds=["event:enforcement"])
    with db.session() as s:
        appeal = appeals.file(
            s, decision_ref=first, appellant="u7", statement="mine, consensual", actor="integration:x"
        )
    # Rejected: a violation again, same category; no second strike or removal.
    review_decision(
        db,
        subject_id=cid,
        decision="violation",
        category="ncii",
        uploader="u7",
        content_ids=[cid],
        queue="appeals",
        actor="staff:senior",
    )
    jobs.work(db, once=True, kinds=["event:enforcement"])
    with db.session() as s:
        assert appeals.get(s, appeal.id).status == "rejected"
        assert len(_deliveries(s, "content.remove")) == 1
        from haven.enforce.models import Strike

        assert len(s.scalars(select(Strike)).all()) == 1
