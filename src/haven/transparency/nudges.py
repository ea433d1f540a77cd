"""Safety nudges' own numbers: shown, what the child did with them, and whether a report or a
block from the same account followed.

- shown: `safety.nudge` events, per risk family and library (`message.library`: the operator's
  library or the shipped texts; older events without it count as shipped).
- clicked / dismissed / reported / blocked: distinct nudges with a `safety.nudge_outcome` of that
  action (the service tells Haven, `POST /v1/nudges/{event_id}/outcome`).
- followed by a report or a block: distinct nudges after which, within `window` of the nudge,
  the same account reported (`user_report.received` with `reporter_id` = the account, or an
  outcome `reported`) or blocked (`account.blocked` by the account, or an outcome `blocked`).
  The window (`HAVEN_TRANSPARENCY_NUDGE_FOLLOW_HOURS`, default 24 h) is what "in the flow"
  means; later actions are not credited to the message.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from haven.transparency.stats import EventRow

EVENTS = ("safety.nudge", "safety.nudge_outcome", "user_report.received", "account.blocked")
ACTIONS = ("clicked", "dismissed", "reported", "blocked")


@dataclass
class NudgeRow:
    family: str
    library: str
    shown: int = 0
    actions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACTIONS, 0))
    followed_by_report: int = 0
    followed_by_block: int = 0
    followed: int = 0  # by a report or a block (a nudge followed by both counts once)

    def rate(self, n: int) -> float | None:
        return round(n / self.shown, 4) if self.shown else None


def nudge_numbers(rows: Iterable[EventRow], *, start: datetime, window: timedelta) -> list[NudgeRow]:
    """Nudges shown from `start` (`rows` oldest first, through the end of the period)."""
    rows = list(rows)
    nudges: dict[str, tuple[str, datetime, str, str]] = {}  # event id -> (account, at, family, library)
    outcomes: dict[str, set[str]] = defaultdict(set)
    reports: dict[str, list[datetime]] = defaultdict(list)
    blocks: dict[str, list[datetime]] = defaultdict(list)
    for e in rows:
        if e.type == "safety.nudge" and e.created_at >= start:
            msg = e.data.get("message") or {}
            nudges[e.id] = (
                str(e.data.get("account_id") or e.subject_id),
                e.created_at,
                str(msg.get("family") or "unknown"),
                str(msg.get("library") or "shipped"),
            )
        elif e.type == "safety.nudge_outcome":
            nid = str(e.data.get("nudge_event_id"))
            outcomes[nid].add(str(e.data.get("action")))
            if e.data.get("action") == "reported":
                reports[e.subject_id].append(e.created_at)
            elif e.data.get("action") == "blocked":
                blocks[e.subject_id].append(e.created_at)
        elif e.type == "user_report.received" and e.data.get("reporter_id"):
            reports[str(e.data["reporter_id"])].append(e.created_at)
        elif e.type == "account.blocked":
            blocks[e.subject_id].append(e.created_at)

    def within(times: list[datetime], at: datetime) -> bool:
        return any(at <= t <= at + window for t in times)

    table: dict[tuple[str, str], NudgeRow] = {}
    for nid, (account, at, family, library) in nudges.items():
        r = table.setdefault((family, library), NudgeRow(family, library))
        r.shown += 1
        for a in outcomes.get(nid, ()):
            if a in r.actions:
                r.actions[a] += 1
        rep, blk = within(reports[account], at), within(blocks[account], at)
        r.followed_by_report += rep
        r.followed_by_block += blk
        r.followed += rep or blk
    return sorted(table.values(), key=lambda r: (r.family, r.library))


def csv_rows(table: list[NudgeRow]) -> Iterator[list[object]]:
    yield [
        "family",
        "library",
        "shown",
        *ACTIONS,
        "followed_by_report",
        "followed_by_block",
        "followed_by_report_or_block",
        "followed_rate",
    ]
    for r in table:
        rate = r.rate(r.followed)
        yield [
            r.family,
            r.library,
            r.shown,
            *(r.actions[a] for a in ACTIONS),
            r.followed_by_report,
            r.followed_by_block,
            r.followed,
            "" if rate is None else rate,
        ]
