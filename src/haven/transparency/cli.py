"""`haven transparency ...`: reports for any period, from the ledger."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

import typer

from haven.core.cli import console, database, fail, handles_errors, settings

transparency_app = typer.Typer(help="Transparency reports computed from the ledger.", no_args_is_help=True)


def _day(value: str, name: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value), time(0), tzinfo=UTC)
    except ValueError:
        fail(f"--{name} must be a date like 2026-01-01, not {value!r}")
        raise  # unreachable


def period_of(start: str, end: str) -> object:
    from haven.transparency.stats import Period

    a, b = _day(start, "from"), _day(end, "to") + timedelta(days=1)  # --to is inclusive
    if b <= a:
        fail("--to must not be before --from")
    return Period(a, b)


@transparency_app.command("report")
@handles_errors
def report_command(
    start: Annotated[str, typer.Option("--from", help="first day (YYYY-MM-DD, UTC)")],
    end: Annotated[str, typer.Option("--to", help="last day, inclusive (YYYY-MM-DD, UTC)")],
    format: Annotated[str, typer.Option(help="dsa-csv, dsa-xlsx, html, json or pdf")] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file to write (default: stdout)")] = None,
    threshold: Annotated[
        int | None, typer.Option(help="suppress counts below this (default HAVEN_TRANSPARENCY_MIN_COUNT)")
    ] = None,
) -> None:
    """Write a transparency report for a period (every figure from ledger events)."""
    from haven.transparency.config import transparency_settings
    from haven.transparency.report import FORMATS, ReportOptions, render
    from haven.transparency.stats import statistics

    if format not in FORMATS:
        fail(f"unknown format {format!r} (one of {', '.join(FORMATS)})")
    if format in ("pdf", "dsa-xlsx") and output is None:
        fail(f"--format {format} is binary: give --output FILE")
    cfg = transparency_settings()
    t = cfg.transparency_min_count if threshold is None else threshold
    if t < 2:
        fail("--threshold must be at least 2 (a count of 1 singles out a person)")
    period = period_of(start, end)
    with database().session() as s:
        stats = statistics(s, period)  # type: ignore[arg-type]
    body = render(stats, format, ReportOptions(service=cfg.service_name, threshold=t))
    if output is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    else:
        output.write_bytes(body)
        console.print(f"wrote {output} ({len(body)} bytes, {stats.events_read} events in the period)")


@transparency_app.command("publish")
@handles_errors
def publish_command(
    start: Annotated[str, typer.Option("--from", help="first day (YYYY-MM-DD, UTC)")],
    end: Annotated[str, typer.Option("--to", help="last day, inclusive")],
) -> None:
    """Write the period's HTML, JSON and DSA CSV where the safety centre lists them (/safety/transparency)."""
    from haven.transparency.publish import publish

    period = period_of(start, end)
    with database().session() as s:
        paths = publish(s, period, settings().var_dir)  # type: ignore[arg-type]
    for p in paths:
        console.print(f"wrote {p}")
