"""Published reports: files the safety centre lists (`/safety/transparency`).

A published report is frozen: it is written once per period (`<from>_<to>.{html,json,csv}`) and
served as is, so what a reader downloaded stays what the service published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from haven.transparency.config import transparency_settings
from haven.transparency.report import ReportOptions, render
from haven.transparency.stats import Period, statistics

NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})\.(html|json|csv)$")


def directory(var_dir: Path) -> Path:
    return transparency_settings().transparency_dir or (var_dir / "transparency")


def publish(session: Session, period: Period, var_dir: Path) -> list[Path]:
    cfg = transparency_settings()
    stats = statistics(session, period)
    opts = ReportOptions(service=cfg.service_name, threshold=cfg.transparency_min_count)
    d = directory(var_dir)
    d.mkdir(parents=True, exist_ok=True)
    last = (period.end.date()).fromordinal(period.end.date().toordinal() - 1)
    stem = f"{period.start.date().isoformat()}_{last.isoformat()}"
    out = []
    for fmt, ext in (("html", "html"), ("json", "json"), ("dsa-csv", "csv")):
        p = d / f"{stem}.{ext}"
        p.write_bytes(render(stats, fmt, opts))
        out.append(p)
    return out


@dataclass(frozen=True)
class Published:
    start: str
    end: str
    formats: tuple[str, ...]


def listing(var_dir: Path) -> list[Published]:
    """Published periods, newest first."""
    d = directory(var_dir)
    found: dict[tuple[str, str], list[str]] = {}
    if d.is_dir():
        for p in d.iterdir():
            m = NAME.match(p.name)
            if m:
                found.setdefault((m[1], m[2]), []).append(m[3])
    return [Published(a, b, tuple(sorted(f))) for (a, b), f in sorted(found.items(), reverse=True)]


def path_of(var_dir: Path, name: str) -> Path | None:
    """The file of a published report, or None (names are matched, never joined blindly)."""
    if not NAME.match(name):
        return None
    p = directory(var_dir) / name
    return p if p.is_file() else None
