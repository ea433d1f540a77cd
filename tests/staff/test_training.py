"""The training gate: packaged modules, admins' edits as versions, completion dates, the
refresh period, re-acknowledgement after a policy change, and who is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from haven.core import clock
from haven.core.db import Database
from haven.core.errors import Invalid, NotFound
from haven.staff import training
from haven.staff.config import StaffSettings
from haven.staff.models import StaffMember
from tests.review.fixtures import make_staff

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def test_modules_ship_in_the_package_and_edits_are_versions(db: Database) -> None:
    with db.session() as s:
        mods = training.list_modules(s)
        assert [m.slug for m in mods] == [
            "policy",
            "legal-duties",
            "reporting",
            "wellness",
            "legal-requests",
            "evidence-handling",
            "financial-review",
            "calibration",
        ]
        # Each person reads the core and their roles' own modules.
        assert training.modules_for(["reviewer"]) == ("policy", "legal-duties", "reporting", "wellness")
        assert training.modules_for(["legal"])[-2:] == ("legal-requests", "evidence-handling")
        assert all(m.version_id is None and m.body.startswith("# ") for m in mods)
        assert '"file viewed" flag' in training.get_module(s, "legal-duties").body
        with pytest.raises(NotFound):
            training.get_module(s, "nope")
        with pytest.raises(Invalid):
            training.edit_module(s, "policy", "", "body", requires_refresh=False, actor="staff:x")
        m = training.edit_module(s, "policy", "Policy v2", "# Policy v2\n", requires_refresh=False, actor="staff:x")
        assert m.version_id is not None and m.title == "Policy v2"
        assert training.list_modules(s)[0].title == "Policy v2"


def test_refresh_period_and_policy_change_make_people_due(db: Database) -> None:
    cfg = StaffSettings(training_refresh_months=12)
    with clock.frozen(T0):
        sid, _ = make_staff(db, "t@example.org", ["child_safety_reviewer"], enrol=False)
        fresh, _ = make_staff(db, "u@example.org", ["child_safety_reviewer"], trained=False, enrol=False)
        with db.session() as s:
            assert training.is_current(s, sid, config=cfg)
            assert not training.is_current(s, fresh, config=cfg)
            due = {staff.email for staff, _ in training.who_is_due(s, config=cfg)}
            assert due == {"u@example.org"}
        clock.advance(timedelta(days=364))
        with db.session() as s:
            assert training.is_current(s, sid, config=cfg)
        clock.advance(timedelta(days=2))
        with db.session() as s:
            assert not training.is_current(s, sid, config=cfg)  # a year has passed
            st = {x.slug: x for x in training.status(s, sid, config=cfg)}
            assert st["policy"].completed_at == T0 and not st["policy"].current
            staff = s.get(StaffMember, sid)
            assert staff is not None
            for slug in training.MODULES:
                training.complete_module(s, staff, slug, actor=f"staff:{sid}", answers=training.correct_answers(slug))
            assert training.is_current(s, sid, config=cfg)
        clock.advance(timedelta(days=1))
        with db.session() as s:
            training.edit_module(
                s, "reporting", "Reporting", "# Reporting\nNew duty.", requires_refresh=True, actor="staff:admin"
            )
            assert not training.is_current(s, sid, config=cfg)  # a policy change to acknowledge
            staff = s.get(StaffMember, sid)
            assert staff is not None
            clock.advance(timedelta(minutes=1))
            training.complete_module(
                s, staff, "reporting", actor=f"staff:{sid}", answers=training.correct_answers("reporting")
            )
            assert training.is_current(s, sid, config=cfg)


def test_a_module_with_a_quiz_completes_only_at_its_pass_mark() -> None:
    """Issue 18 item 11: every shipped module has questions about what it says, each question's
    answer is one of its options, and marking is by the pass mark."""
    from haven.staff import training

    for slug in training.MODULES:
        quiz = training.quiz(slug)
        assert quiz is not None and len(quiz.questions) >= 3, slug
        right = training.correct_answers(slug)
        assert training.mark(slug, right).passed  # type: ignore[union-attr]
        assert not training.mark(slug, {}).passed  # type: ignore[union-attr]
        one_wrong = dict(right)
        first = quiz.questions[0]
        one_wrong[first.id] = str((first.answer + 1) % len(first.options))
        result = training.mark(slug, one_wrong)
        assert result is not None and result.passed == (quiz.pass_mark <= 1 - 1 / len(quiz.questions) + 1e-9)
        assert [q.id for q in result.wrong] == [first.id]
        assert training.mark(slug, {first.id: "not a number"}).wrong[0].id == first.id  # type: ignore[union-attr]
