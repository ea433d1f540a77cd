"""A seeded ledger gives a DSA CSV whose numbers a test recounts from the events on its own; the
JSON, HTML, XLSX and PDF come from the same statistics; small counts are suppressed."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from haven.core.db import Database
from haven.core.models import Event
from haven.policy.categories import CATEGORIES
from haven.transparency import report
from haven.transparency.stats import Period, statistics
from tests.transparency.seed import seed

PERIOD = Period(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
THRESHOLD = 3


def _csv(db: Database) -> dict[tuple[str, str, str], str]:
    with db.session() as s:
        stats = statistics(s, PERIOD)
    body = report.render(stats, "dsa-csv", report.ReportOptions(service="Seed", threshold=THRESHOLD)).decode()
    return {(r["section"], r["field"], r["breakdown"]): r["value"] for r in csv.DictReader(io.StringIO(body))}


def _pub(n: int) -> str:
    return str(n) if n == 0 or n >= THRESHOLD else f"<{THRESHOLD}"


@pytest.fixture
def seeded(db: Database) -> Database:
    with db.session() as s:
        seed(s)
    return db


def test_dsa_csv_matches_an_independent_recount(seeded: Database) -> None:
    rows = _csv(seeded)
    with seeded.session() as s:
        evs = [e for e in s.scalars(select(Event)) if PERIOD.start <= e.created_at < PERIOD.end]
    assert len(evs) > 1000
    decided = [e for e in evs if e.type == "enforcement.decided"]
    # own-initiative decisions and decisions by DSA category
    voluntary = sum(1 for e in decided if e.data["source_type"] == "SOURCE_VOLUNTARY")
    assert rows[("1.4", "own_initiative_decisions", "")] == _pub(voluntary)
    by_dsa = Counter(CATEGORIES[e.data["category"]].dsa_category for e in decided)
    for dsa_cat, n in by_dsa.items():
        assert rows[("1.4", "decisions_by_category", dsa_cat)] == _pub(n)
    illegal = sum(1 for e in decided if CATEGORIES[e.data["category"]].illegal)
    assert rows[("1.4", "decisions_by_ground", "DECISION_GROUND_ILLEGAL_CONTENT")] == _pub(illegal)
    fully = sum(1 for e in decided if e.data["automated_decision"] == "AUTOMATED_DECISION_FULLY")
    assert rows[("1.4", "decisions_by_automation", "AUTOMATED_DECISION_FULLY")] == _pub(fully)
    # notices
    notices = [e for e in evs if e.type == "user_report.received"]
    assert rows[("1.3", "notices_total", "")] == _pub(len(notices))
    assert rows[("1.3", "notices_by_trusted_flaggers", "")] == _pub(sum(e.data["trusted_flagger"] for e in notices))
    minors = sum(1 for e in notices if CATEGORIES[e.data["report_category"]].dsa_category.endswith("MINORS"))
    assert rows[("1.3", "notices_by_category", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS")] == _pub(minors)
    # complaints
    appeals = [e for e in evs if e.type == "appeal.decided"]
    assert rows[("1.5", "decisions_reversed", "")] == _pub(sum(e.data["outcome"] == "upheld" for e in appeals))
    # orders answered in time: produced (first) at or before due_at, the production may be after the period
    with seeded.session() as s:
        produced: dict[str, datetime] = {}
        for e in s.scalars(select(Event).where(Event.type == "legal.produced").order_by(Event.created_at)):
            if e.created_at < PERIOD.end:
                produced.setdefault(e.subject_id, e.created_at)
    received = [e for e in evs if e.type == "legal.request_received"]
    for kind in {e.data["kind"] for e in received}:
        mine = [e for e in received if e.data["kind"] == kind]
        in_time = sum(
            1
            for e in mine
            if e.subject_id in produced and produced[e.subject_id] <= datetime.fromisoformat(e.data["due_at"])
        )
        assert rows[("1.2", "orders_received", kind)] == _pub(len(mine))
        assert rows[("1.2", "orders_answered_in_time", kind)] == _pub(in_time)
    # items screened
    checked = sum(1 for e in evs if e.type in ("content.received", "message.received"))
    assert rows[("1.6", "items_screened_automatically", "")] == _pub(checked)


def test_same_ledger_same_numbers_and_formats_agree(seeded: Database, tmp_path: Path) -> None:
    with seeded.session() as s:
        a = statistics(s, PERIOD).to_dict()
        b = statistics(s, PERIOD)
    assert a == b.to_dict()
    opts = report.ReportOptions(service="Seed", threshold=THRESHOLD)
    data = json.loads(report.render(b, "json", opts))
    assert data["figures"]["decisions"]["events"] == ["enforcement.decided"]
    assert data["figures"]["financial_holds"]["status"] == "ok"
    html = report.render(b, "html", opts).decode()
    assert "<script" not in html
    assert not re.search(r"(src|href)=\"(https?:)?//|url\((?!#)", html)  # nothing from another host
    assert "<svg" in html and "Transparency report: Seed" in html
    book = zipfile.ZipFile(io.BytesIO(report.render(b, "dsa-xlsx", opts)))
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "own_initiative_decisions" in sheet


def test_small_counts_are_suppressed() -> None:
    from haven.transparency.suppress import breakdown, cell

    assert cell(0, 10) == 0 and cell(9, 10) == "<10" and cell(10, 10) == 10
    # One hidden cell would be recoverable from the total: the next smallest is hidden too.
    out = breakdown({"a": 4, "b": 50, "c": 12}, 10)
    assert out == {"a": "<10", "b": 50, "c": "suppressed"}


def test_exchange_signals_and_age_checks_are_counted_from_their_events() -> None:
    """The figures once "to wire": exchange fetches and feedback, age-assurance results by method."""
    from haven.transparency.stats import EventRow, Period, compute

    t = datetime(2026, 11, 5, tzinfo=UTC)

    def row(i: int, type_: str, data: dict) -> EventRow:
        return EventRow(str(i), type_, "x", "x", "system:haven", t, data)

    rows = [
        row(1, "exchange.fetched", {"added": 40, "updated": 2, "deleted": 3}),
        row(2, "exchange.fetched", {"added": 10, "updated": 0, "deleted": 0}),
        row(3, "exchange.feedback_sent", {"sentiment": "confirm"}),
        row(4, "exchange.entry_disputed", {}),
        row(5, "age.signal_received", {"method": "id_document"}),
        row(6, "age.signal_received", {"method": "id_document"}),
        row(7, "age.signal_received", {"method": "facial_estimation"}),
        row(8, "transaction.flagged", {"outcome": "hold", "category": "sextortion"}),
        row(9, "transaction.flagged", {"outcome": "review", "category": "child_trafficking"}),
        row(10, "transaction.flagged", {"outcome": "decline", "category": "sextortion"}),
        row(11, "finance.restricted", {"kind": "payout_freeze"}),
    ]
    figs = compute(rows, Period(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))).to_dict()
    ex = figs["figures"]["exchange_signals"]
    assert ex["status"] == "ok" and ex["breakdowns"]["received"] == {"added": 50, "deleted": 3, "updated": 2}
    assert ex["breakdowns"]["feedback"] == {"confirm": 1, "disputed": 1} and ex["total"] == 56
    age = figs["figures"]["age_assurance_checks"]
    assert age["total"] == 3 and age["breakdowns"]["age.signal_received"] == {"facial_estimation": 1, "id_document": 2}
    holds = figs["figures"]["financial_holds"]
    assert holds["total"] == 2 and holds["breakdowns"]["payments"] == {"decline": 1, "hold": 1}
    assert holds["breakdowns"]["category"] == {"sextortion": 2}
    assert holds["breakdowns"]["restrictions"] == {"payout_freeze": 1}
