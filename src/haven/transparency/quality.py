"""Rule and classifier quality from review outcomes, from the ledger.

A flag is the event that asked a person to look: a `content.verdict` with action `review` or
`block`, a `conversation.flagged`, or a `user_report.received`; each names its rule. A
`review.decision` of `violation` (confirmed) or `no_violation` (rejected) on the same subject
is attributed to the latest flag of that subject before it. Precision = confirmed / (confirmed
+ rejected), per rule and per ISO week of the decision. `enforcement.overturned` on a subject
counts against the rule of its latest flag (items overturned, on appeal or by later review).
Shadow rules' would-be effects: `content.verdict.shadow` entries with `would_decide`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from haven.transparency.stats import EventRow

FLAG_TYPES = ("content.verdict", "conversation.flagged", "user_report.received")
EVENTS = (*FLAG_TYPES, "review.decision", "enforcement.overturned")


@dataclass
class RuleQuality:
    rule: str
    week: str
    flags: int = 0
    confirmed: int = 0
    rejected: int = 0
    overturned: int = 0

    @property
    def precision(self) -> float | None:
        n = self.confirmed + self.rejected
        return round(self.confirmed / n, 4) if n else None


def _flag_rule(e: EventRow) -> str | None:
    if e.type == "content.verdict":
        return str(e.data.get("rule")) if e.data.get("action") in ("review", "block") else None
    if e.type in ("conversation.flagged", "user_report.received"):
        return str(e.data.get("rule") or f"{e.type}:{e.data.get('family', '')}".rstrip(":"))
    return None


def _week(e: EventRow) -> str:
    y, w, _ = e.created_at.isocalendar()
    return f"{y}-W{w:02d}"


def rule_quality(rows: Iterable[EventRow]) -> list[RuleQuality]:
    """Per (rule, ISO week) counts; `rows` oldest first."""
    latest: dict[tuple[str, str], str] = {}
    table: dict[tuple[str, str], RuleQuality] = {}

    def get(rule: str, week: str) -> RuleQuality:
        return table.setdefault((rule, week), RuleQuality(rule, week))

    for e in rows:
        key = (e.subject_type, e.subject_id)
        rule = _flag_rule(e)
        if rule is not None:
            latest[key] = rule
            get(rule, _week(e)).flags += 1
        elif e.type == "review.decision" and key in latest:
            d = e.data.get("decision")
            if d == "violation":
                get(latest[key], _week(e)).confirmed += 1
            elif d == "no_violation":
                get(latest[key], _week(e)).rejected += 1
        elif e.type == "enforcement.overturned" and key in latest:
            get(latest[key], _week(e)).overturned += 1
    return sorted(table.values(), key=lambda r: (r.rule, r.week))


def shadow_effects(rows: Iterable[EventRow]) -> dict[tuple[str, str], int]:
    """(shadow rule, would-be verdict) -> how many verdicts it would have decided."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    for e in rows:
        if e.type == "content.verdict":
            for hit in e.data.get("shadow", []) or []:
                if hit.get("would_decide"):
                    out[(str(hit.get("rule")), str(hit.get("verdict")))] += 1
    return dict(out)


def csv_rows(table: list[RuleQuality]) -> Iterator[list[object]]:
    yield ["rule", "week", "flags", "confirmed", "rejected", "precision", "overturned"]
    for r in table:
        yield [
            r.rule,
            r.week,
            r.flags,
            r.confirmed,
            r.rejected,
            "" if r.precision is None else r.precision,
            r.overturned,
        ]
