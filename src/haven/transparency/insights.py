"""`/console/insights` (seniors, who lead review, and admins): queue volumes and SLA timers, time to action, nudges,
rule and classifier quality from review outcomes, shadow rules' would-be effects; every table
as CSV (streamed, unlimited)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from haven.console import StaffContext, add_nav, add_template_dir, console_router, current_staff, render
from haven.core.clock import now
from haven.transparency import charts, classifiers, exposure, nudges, quality
from haven.transparency.config import transparency_settings
from haven.transparency.stats import EventRow, Period, compute, load_events

router = console_router()
add_template_dir(Path(__file__).parent / "templates")
add_nav("Insights", "/console/insights", ("senior", "admin"))
Lead = Annotated[StaffContext, Depends(current_staff("senior", "admin"))]


def _period(days: int) -> Period:
    end = now() + timedelta(seconds=1)
    return Period(end - timedelta(days=max(1, min(days, 3660))), end)


def _queues(request: Request) -> list[dict[str, object]]:
    from haven.review.models import ReviewTask

    t = now()
    with request.app.state.db.session() as s:
        rows = s.execute(
            select(
                ReviewTask.queue,
                func.count(),
                func.sum(case((ReviewTask.due_at < t, 1), else_=0)),
                func.min(ReviewTask.due_at),
            )
            .where(ReviewTask.status.in_(("open", "claimed")))
            .group_by(ReviewTask.queue)
            .order_by(ReviewTask.queue)
        ).all()
    return [{"queue": q, "open": n, "overdue": int(o or 0), "next_due": d} for q, n, o, d in rows]


def _classifiers(s: Session, inside: list[EventRow]) -> list[classifiers.Bucket]:
    outcome = classifiers.outcomes(inside)
    return classifiers.classifier_quality(outcome, classifiers.load_scores(s, outcome))


def _exposure(rows: list[EventRow], period: Period) -> list[exposure.ExposureWeek]:
    from haven.staff.config import staff_settings

    return exposure.exposure_weeks(rows, start=period.start, per_day_budget=staff_settings().exposure_per_day)


def _nudges(rows: list[EventRow], period: Period) -> list[nudges.NudgeRow]:
    window = timedelta(hours=transparency_settings().transparency_nudge_follow_hours)
    return nudges.nudge_numbers(rows, start=period.start, window=window)


@router.get("/insights", response_class=HTMLResponse)
def insights(request: Request, me: Lead, days: int = 28) -> HTMLResponse:
    period = _period(days)
    with request.app.state.db.session() as s:
        rows = load_events(s, period)
        inside = [e for e in rows if e.created_at in period]
        buckets = _classifiers(s, inside)
    table = quality.rule_quality(inside)
    stats = compute(rows, period)
    by_rule: dict[str, list[int]] = {}
    for r in table:
        c = by_rule.setdefault(r.rule, [0, 0])
        c[0] += r.confirmed
        c[1] += r.rejected
    precision = {k: round(a / (a + b), 2) for k, (a, b) in by_rule.items() if a + b}
    return render(
        request,
        "insights.html",
        {
            "days": days,
            "queues": _queues(request),
            "quality": table,
            "shadow": sorted(quality.shadow_effects(inside).items()),
            "tta": stats.figures["time_to_action"],
            "classifiers": buckets,
            "exposure": _exposure(rows, period),
            "min_reviewers": exposure.MIN_REVIEWERS,
            "nudges": _nudges(rows, period),
            "nudge_actions": nudges.ACTIONS,
            "follow_hours": transparency_settings().transparency_nudge_follow_hours,
            "chart": charts.bar_svg("Precision by rule (confirmed / decided)", precision, xlabel="precision"),
        },
        me=me,
    )


def _stream(header_rows: Iterator[list[object]], name: str) -> StreamingResponse:
    def gen() -> Iterator[str]:
        for row in header_rows:
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerow(
                ["'" + c if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") else c for c in row]
            )
            yield buf.getvalue()

    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return StreamingResponse(
        gen(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-{stamp}.csv"', "Cache-Control": "no-store"},
    )


@router.get("/insights/rule-quality.csv")
def rule_quality_csv(request: Request, me: Lead, days: int = 28) -> StreamingResponse:
    period = _period(days)
    with request.app.state.db.session() as s:
        rows = [e for e in load_events(s, period) if e.created_at in period]
    return _stream(quality.csv_rows(quality.rule_quality(rows)), "rule-quality")


@router.get("/insights/classifier-quality.csv")
def classifier_quality_csv(request: Request, me: Lead, days: int = 28) -> StreamingResponse:
    period = _period(days)
    with request.app.state.db.session() as s:
        table = _classifiers(s, [e for e in load_events(s, period) if e.created_at in period])
    return _stream(classifiers.csv_rows(table), "classifier-quality")


@router.get("/insights/exposure.csv")
def exposure_csv(request: Request, me: Lead, days: int = 28) -> StreamingResponse:
    period = _period(days)
    with request.app.state.db.session() as s:
        rows = load_events(s, period)
    return _stream(exposure.csv_rows(_exposure(rows, period)), "reviewer-exposure")


@router.get("/insights/nudges.csv")
def nudges_csv(request: Request, me: Lead, days: int = 28) -> StreamingResponse:
    period = _period(days)
    with request.app.state.db.session() as s:
        rows = load_events(s, period, lookback=timedelta(0))
    return _stream(nudges.csv_rows(_nudges(rows, period)), "nudges")


@router.get("/insights/queues.csv")
def queues_csv(request: Request, me: Lead) -> StreamingResponse:
    def rows() -> Iterator[list[object]]:
        yield ["queue", "open", "overdue", "next_due"]
        for q in _queues(request):
            yield [q["queue"], q["open"], q["overdue"], q["next_due"]]

    return _stream(rows(), "queues")
