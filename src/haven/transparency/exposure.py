"""Reviewer exposure, anonymised and aggregated, for leads (`/console/insights`).

Exposure is what a reviewer's own page counts (`haven.review.service.exposure`): child-safety
items decided. From the ledger: a `review.decision` whose task was created child-safety
(`review.task_created` with `child_safety`, looked up by `task_id`; the lookback of the period
covers tasks opened before it). Per ISO week: reviewers who decided any, child-safety decisions,
and the per-reviewer distribution (median, p90, highest), with reviewer-days above the daily
exposure budget (`HAVEN_EXPOSURE_PER_DAY`). No reviewer is named; a week with fewer than
`min_reviewers` reviewers shows only its total, so a lead cannot read one person's load off it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from haven.transparency.stats import EventRow

EVENTS = ("review.task_created", "review.decision")
MIN_REVIEWERS = 3


@dataclass
class ExposureWeek:
    week: str
    reviewers: int
    decisions: int
    median: int | None
    p90: int | None
    highest: int | None
    days_over_budget: int | None

    @property
    def suppressed(self) -> bool:
        return self.median is None


def _rank(values: list[int], q: float) -> int:
    """Nearest-rank percentile (as `haven.transparency.stats`)."""
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def _week(t: datetime) -> str:
    y, w, _ = t.isocalendar()
    return f"{y}-W{w:02d}"


def exposure_weeks(
    rows: Iterable[EventRow], *, start: datetime, per_day_budget: int, min_reviewers: int = MIN_REVIEWERS
) -> list[ExposureWeek]:
    """`rows` oldest first (with lookback); decisions counted from `start`."""
    child_tasks: set[str] = set()
    per_week: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    per_day: dict[tuple[str, str], int] = defaultdict(int)
    for e in rows:
        if e.type == "review.task_created" and e.data.get("child_safety"):
            child_tasks.add(str(e.data.get("task_id")))
        elif e.type == "review.decision" and e.created_at >= start and str(e.data.get("task_id")) in child_tasks:
            who = str(e.data.get("reviewer"))
            per_week[_week(e.created_at)][who] += 1
            per_day[(who, e.created_at.date().isoformat())] += 1
    over: dict[str, int] = defaultdict(int)
    for (_who, day), n in per_day.items():
        if n > per_day_budget:
            over[_week(datetime.fromisoformat(day))] += 1
    out = []
    for week in sorted(per_week):
        counts = list(per_week[week].values())
        shown = len(counts) >= min_reviewers
        out.append(
            ExposureWeek(
                week=week,
                reviewers=len(counts),
                decisions=sum(counts),
                median=_rank(counts, 0.5) if shown else None,
                p90=_rank(counts, 0.9) if shown else None,
                highest=max(counts) if shown else None,
                days_over_budget=over.get(week, 0) if shown else None,
            )
        )
    return out


def csv_rows(table: list[ExposureWeek]) -> Iterator[list[object]]:
    yield [
        "week",
        "reviewers",
        "child_safety_decisions",
        "per_reviewer_median",
        "per_reviewer_p90",
        "per_reviewer_highest",
        "reviewer_days_over_budget",
    ]
    for w in table:
        yield [
            w.week,
            w.reviewers,
            w.decisions,
            *("suppressed" if v is None else v for v in (w.median, w.p90, w.highest, w.days_over_budget)),
        ]
