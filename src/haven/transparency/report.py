"""Transparency reports: JSON, the DSA CSV/XLSX, a publishable HTML page with charts, its PDF.

All formats are built from one `Statistics` (haven.transparency.stats) and one suppression
threshold, so they always agree. The PDF is Chromium's print of the HTML page (Debian's
chromium through Playwright, the same engine the browser tests use): no second layout engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from haven import __version__
from haven.transparency import charts, dsa, xlsx
from haven.transparency.stats import Statistics
from haven.transparency.suppress import figure as published_figure

FORMATS = ("dsa-csv", "dsa-xlsx", "html", "json", "pdf")
HERE = Path(__file__).resolve().parent
_env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(default=True))


@dataclass(frozen=True)
class ReportOptions:
    service: str = "this service"
    threshold: int = 10


def published(stats: Statistics, opts: ReportOptions) -> dict[str, Any]:
    """The report as data: every figure suppressed, with its definition and source events."""
    figs = {k: published_figure(f, opts.threshold) for k, f in stats.figures.items()}
    return {
        "service": opts.service,
        "period": {"from": stats.period.start.isoformat(), "to": stats.period.end.isoformat()},
        "generated_by": f"Haven {__version__}",
        "suppression_threshold": opts.threshold,
        "events_read": stats.events_read,
        "figures": figs,
        "hotline_summary": hotline_summary(figs),
    }


def hotline_summary(figs: dict[str, Any]) -> dict[str, Any]:
    """The NCMEC / eSafety-style summary: what child-safety regulators and hotlines ask first."""
    d = figs["decisions"]["breakdowns"]
    return {
        "reports_to_ncmec": figs["cybertipline_reports"]["total"],
        "reports_by_recipient": figs["cybertipline_reports"]["breakdowns"].get("recipient", {}),
        "csam_decisions": d.get("policy_category", {}).get("csam", 0),
        "grooming_and_sextortion_decisions": {
            k: v for k, v in d.get("policy_category", {}).items() if k in ("grooming", "sextortion")
        },
        "hash_matches": figs["matches"]["total"],
        "evidence_preserved": figs["evidence_preserved"]["total"],
        "law_enforcement_requests": figs["legal_requests"]["total"],
        "user_reports": figs["user_notices"]["total"],
        "safety_nudges_shown": figs["nudges_shown"]["total"],
    }


def to_json(stats: Statistics, opts: ReportOptions) -> str:
    return json.dumps(published(stats, opts), indent=2, sort_keys=True, default=str) + "\n"


def to_html(stats: Statistics, opts: ReportOptions) -> str:
    data = published(stats, opts)
    figs = data["figures"]
    chart_specs = [
        ("decisions", "policy_category", "Decisions by policy category"),
        ("decisions", "dsa_category", "Decisions by DSA category"),
        ("user_notices", "source", "User reports by source"),
        ("items_checked", "media_kind", "Items checked by kind"),
        ("accounts_actioned", "ladder_step", "Account actions by ladder step"),
    ]
    chart_svgs = {}
    for fid, bd, title in chart_specs:
        svg = charts.bar_svg(title, figs[fid]["breakdowns"].get(bd, {}))
        if svg:
            chart_svgs[(fid, bd)] = svg
    dsa_rows = [r.published(opts.threshold) for r in dsa.rows(stats, service=opts.service)]
    return _env.get_template("report.html").render(
        data=data,
        figs=figs,
        charts=chart_svgs,
        dsa_rows=dsa_rows,
        dsa_columns=dsa.COLUMNS,
        period_label=stats.period.label,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d"),
    )


def to_pdf(html: str, *, chromium: str = "/usr/bin/chromium") -> bytes:
    """Chromium's print of the HTML (A4, backgrounds). Needs Playwright and a Chromium binary."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.abort())  # the page is self-contained: nothing is fetched
            page.set_content(html, wait_until="load")
            pdf: bytes = page.pdf(format="A4", print_background=True, margin={"top": "14mm", "bottom": "14mm"})
        finally:
            browser.close()
    return pdf


def render(stats: Statistics, fmt: str, opts: ReportOptions) -> bytes:
    """The report in one of `FORMATS`."""
    if fmt == "json":
        return to_json(stats, opts).encode()
    if fmt == "dsa-csv":
        return dsa.to_csv(stats, opts.threshold, service=opts.service).encode()
    if fmt == "dsa-xlsx":
        rows: list[list[object]] = [list(dsa.COLUMNS)]
        rows += [list(r.published(opts.threshold)) for r in dsa.rows(stats, service=opts.service)]
        return xlsx.workbook({"DSA quantitative": rows})
    if fmt == "html":
        return to_html(stats, opts).encode()
    if fmt == "pdf":
        return to_pdf(to_html(stats, opts))
    raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
