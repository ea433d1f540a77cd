"""The dashboard's tables match recounts from the seeded ledger: rule quality from review
decisions, classifier quality per score threshold (with the items' stored scores), reviewer
exposure (anonymised); and the console serves them, the CSV streamed."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from haven.core.db import Database
from haven.core.models import Event
from haven.screening.models import ContentItem
from haven.transparency import classifiers, exposure
from haven.transparency.quality import rule_quality
from haven.transparency.stats import EventRow
from tests.conftest import LiveServer
from tests.review.console_client import ConsoleClient
from tests.review.fixtures import PASSWORD, make_staff
from tests.transparency.seed import seed


@pytest.fixture
def seeded(db: Database) -> Database:
    with db.session() as s:
        seed(s, n_content=400)
    return db


def _events(db: Database) -> list[Event]:
    with db.session() as s:
        return list(s.scalars(select(Event).order_by(Event.created_at, Event.id)))


def _rows(evs: list[Event]) -> list[EventRow]:
    return [EventRow(e.id, e.type, e.subject_type, e.subject_id, e.actor, e.created_at, e.data) for e in evs]


def test_rule_quality_matches_a_recount_from_review_decisions(seeded: Database) -> None:
    evs = _events(seeded)
    table = rule_quality(_rows(evs))
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


def _classifier_recount(db: Database, evs: list[Event]) -> dict[tuple[int, str], int]:
    """(bucket 0-9, outcome) -> items, from the events and the items' stored scores."""
    flagged = {e.subject_id for e in evs if e.type == "content.verdict" and e.data["action"] != "allow"}
    last: dict[str, str] = {}
    for e in evs:
        if e.type == "review.decision" and e.subject_id in flagged:
            last[e.subject_id] = e.data["decision"]
    with db.session() as s:
        scores = {i.id: i.scores for i in s.scalars(select(ContentItem))}
    out: Counter[tuple[int, str]] = Counter()
    for cid in flagged:
        score = scores.get(cid, {}).get("nsfw", {}).get("scores", {}).get("nsfw")
        if score is None:
            continue
        b = min(9, int(score * 10))
        out[(b, "flagged")] += 1
        if cid in last:
            out[(b, last[cid])] += 1
    return out


def test_classifier_quality_per_threshold_matches_a_recount(seeded: Database) -> None:
    evs = _events(seeded)
    expected = _classifier_recount(seeded, evs)
    with seeded.session() as s:
        outcome = classifiers.outcomes(_rows(evs))
        table = classifiers.classifier_quality(outcome, classifiers.load_scores(s, outcome))
    assert {(b.classifier, b.label) for b in table} == {("nsfw", "nsfw")} and len(table) == 10
    for b in table:
        i = round(b.low * 10)
        assert (b.flagged, b.confirmed, b.rejected) == (
            expected[(i, "flagged")],
            expected[(i, "violation")],
            expected[(i, "no_violation")],
        ), b
        conf = sum(expected[(j, "violation")] for j in range(i, 10))
        rej = sum(expected[(j, "no_violation")] for j in range(i, 10))
        assert b.threshold_precision == (round(conf / (conf + rej), 4) if conf + rej else None)
    assert sum(b.flagged for b in table) > 100 and table[0].at_or_above_confirmed > 20


def test_reviewer_exposure_matches_a_recount_and_names_nobody(seeded: Database) -> None:
    evs = _events(seeded)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    child = {e.data["task_id"] for e in evs if e.type == "review.task_created" and e.data["child_safety"]}
    weeks: dict[str, Counter[str]] = defaultdict(Counter)
    days: Counter[tuple[str, object]] = Counter()
    for e in evs:
        if e.type == "review.decision" and e.created_at >= start and e.data["task_id"] in child:
            y, w, _ = e.created_at.isocalendar()
            weeks[f"{y}-W{w:02d}"][e.data["reviewer"]] += 1
            days[(e.data["reviewer"], e.created_at.date())] += 1
    table = exposure.exposure_weeks(_rows(evs), start=start, per_day_budget=2, min_reviewers=3)
    assert [w.week for w in table] == sorted(weeks)
    for w in table:
        counts = sorted(weeks[w.week].values())
        assert (w.reviewers, w.decisions) == (len(counts), sum(counts))
        if len(counts) < 3:
            assert w.suppressed and w.highest is None
            continue
        assert w.median == counts[math.ceil(len(counts) / 2) - 1]
        assert w.p90 == counts[math.ceil(0.9 * len(counts)) - 1] and w.highest == counts[-1]
        over = sum(
            1 for (_r, d), n in days.items() if n > 2 and f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}" == w.week
        )
        assert w.days_over_budget == over
    assert sum(w.decisions for w in table) > 50 and any(not w.suppressed for w in table)
    body = "".join(",".join(map(str, r)) for r in exposure.csv_rows(table))
    assert "staff-" not in body


def test_insights_page_and_streamed_csv(server: LiveServer, seeded: Database) -> None:
    _, secret = make_staff(seeded, "lead@example.org", ["senior"])
    c = ConsoleClient(server.url)
    c.sign_in("lead@example.org", PASSWORD, secret)
    page = c.get("/console/insights?days=400")
    assert page.status_code == 200
    assert 'id="classifier-quality"' in page.text and 'id="exposure"' in page.text and "staff-1" not in page.text
    r = c.get("/console/insights/classifier-quality.csv?days=400")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    got = list(csv.DictReader(io.StringIO(r.text)))
    expected = _classifier_recount(seeded, _events(seeded))
    assert len(got) == 10
    for row in got:
        i = round(float(row["score_from"]) * 10)
        assert int(row["flagged"]) == expected[(i, "flagged")]
        assert int(row["confirmed"]) == expected[(i, "violation")]
    r = c.get("/console/insights/exposure.csv?days=400")
    assert r.status_code == 200 and r.text.startswith("week,reviewers,child_safety_decisions")
    for table in ("rule-quality", "classifier-quality", "exposure", "nudges"):
        assert page.text.count(f'<table id="{table}">') == 1, table
    assert page.text.count("<h2>") == len(set(page.text.split("<h2>")[1:]))  # no section twice
    r = c.get("/console/insights/nudges.csv?days=400")
    shown = sum(int(row["shown"]) for row in csv.DictReader(io.StringIO(r.text)))
    assert r.status_code == 200 and shown == sum(1 for e in _events(seeded) if e.type == "safety.nudge") == 120
