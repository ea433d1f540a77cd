"""The rule-quality table matches a recount from the review decisions of the seeded ledger."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from haven.core.db import Database
from haven.core.models import Event
from haven.transparency.quality import rule_quality
from haven.transparency.stats import EventRow
from tests.transparency.seed import seed


def test_rule_quality_matches_a_recount_from_review_decisions(db: Database) -> None:
    with db.session() as s:
        seed(s, n_content=250)
    with db.session() as s:
        evs = list(s.scalars(select(Event).order_by(Event.created_at, Event.id)))
        rows = [EventRow(e.id, e.type, e.subject_type, e.subject_id, e.actor, e.created_at, e.data) for e in evs]
    table = rule_quality(rows)
    # recount: each content's flagging rule, then its reviewers' decisions
    rule_of = {
        e.subject_id: e.data["rule"]
        for e in evs
        if e.type == "content.verdict" and e.data["action"] in ("review", "block")
    }
    expected: Counter[tuple[str, str]] = Counter()
    for e in evs:
        if e.type == "review.decision" and e.subject_id in rule_of:
            expected[(rule_of[e.subject_id], e.data["decision"])] += 1
    got: Counter[tuple[str, str]] = Counter()
    for r in table:
        got[(r.rule, "violation")] += r.confirmed
        got[(r.rule, "no_violation")] += r.rejected
    assert +got == +expected and sum(expected.values()) > 20
    for r in table:
        if r.confirmed + r.rejected:
            assert r.precision == round(r.confirmed / (r.confirmed + r.rejected), 4)
