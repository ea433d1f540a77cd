"""Transparency statistics, computed from the ledger only.

Every figure is a pure function of the events of a period (plus, for time-to-action and
answered-in-time, the earlier events of the same subjects within `LOOKBACK`): the same ledger
gives the same numbers, and each figure names the event types it counts (`Figure.events`), so a
reader can recount it. Nothing here reads a side counter (Prometheus, `counters`, row counts of
other tables); the only lookups outside the events are dimensions that never change a count:
the policy categories (`haven.policy.categories`, for the DSA taxonomy) and which bank an entry
belongs to (a bank entry's bank and the bank's kind and provenance are fixed at creation).

Figures whose events are emitted by capabilities not installed (financial holds, age assurance,
exchange signals) are declared with the event types they will count and reported as "to wire"
until those types exist in the catalogue (`haven.core.events.CATALOGUE`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.core import events as catalogue
from haven.core.models import Event
from haven.policy.categories import CATEGORIES

#: How far before a period the events of the same subjects are read (a decision in March on an
#: upload of February still has a time to action).
LOOKBACK = timedelta(days=90)


@dataclass(frozen=True)
class EventRow:
    """The part of an event that statistics read (a plain value: tests build them by hand)."""

    id: str
    type: str
    subject_type: str
    subject_id: str
    actor: str
    created_at: datetime
    data: dict[str, Any]


@dataclass
class Figure:
    """One figure of a report: a total and its breakdowns, and where it comes from."""

    id: str
    title: str
    #: The event types counted; a reader recounts the figure from these.
    events: tuple[str, ...]
    definition: str
    total: float | None = 0
    #: breakdown name -> {key: count}
    breakdowns: dict[str, dict[str, float]] = field(default_factory=dict)
    unit: str = "count"
    #: "ok", or "to_wire" when an event type it counts is not in the catalogue yet.
    status: str = "ok"

    def add(self, breakdown: str, key: str | None, n: float = 1) -> None:
        b = self.breakdowns.setdefault(breakdown, {})
        k = key if key not in (None, "") else "unspecified"
        b[k] = b.get(k, 0) + n

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["events"] = list(self.events)
        d["breakdowns"] = {name: dict(sorted(b.items())) for name, b in sorted(self.breakdowns.items())}
        return d


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime  # exclusive

    def __contains__(self, t: datetime) -> bool:
        return self.start <= t < self.end

    @property
    def label(self) -> str:
        last = self.end - timedelta(seconds=1)
        return f"{self.start.date().isoformat()} to {last.date().isoformat()}"


@dataclass
class Statistics:
    period: Period
    figures: dict[str, Figure]
    events_read: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()},
            "events_read": self.events_read,
            "figures": {k: f.to_dict() for k, f in self.figures.items()},
        }


def load_events(session: Session, period: Period, lookback: timedelta = LOOKBACK) -> list[EventRow]:
    """The events of the period and of the lookback before it, oldest first (ties by id)."""
    rows = session.execute(
        select(Event.id, Event.type, Event.subject_type, Event.subject_id, Event.actor, Event.created_at, Event.data)
        .where(Event.created_at >= period.start - lookback, Event.created_at < period.end)
        .order_by(Event.created_at, Event.id)
    )
    return [EventRow(*r) for r in rows]


def bank_dimensions(session: Session, entry_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """entry id -> (bank kind, bank provenance): the fixed facts of the bank an entry is in."""
    from haven.banks.models import Bank, BankEntry

    ids = sorted(set(entry_ids))
    out: dict[str, tuple[str, str]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for entry_id, kind, provenance in session.execute(
            select(BankEntry.id, Bank.kind, Bank.provenance)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(BankEntry.id.in_(chunk))
        ):
            out[entry_id] = (kind, provenance)
    return out


def dsa_category_of(category: str) -> tuple[str, bool]:
    """The DSA statement category of a Haven policy category and whether it is illegal content
    (`haven.policy.categories`; an unknown id is an "other violation of the terms")."""
    c = CATEGORIES.get(category)
    if c is None:
        return "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", False
    return c.dsa_category, c.illegal


def _percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (no interpolation: every value reported is one that occurred)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100)
    return ordered[int(rank) - 1]


def _parse(ts: Any) -> datetime | None:
    if not isinstance(ts, str) or not ts:
        return None
    try:
        return datetime.fromisoformat(ts)
    except ValueError:
        return None


#: Figures for capabilities built elsewhere: (id, title, event types, breakdown field, definition).
TO_WIRE: tuple[tuple[str, str, tuple[str, ...], str, str], ...] = (
    (
        "age_assurance_checks",
        "Age-assurance checks by method",
        ("age.signal_received",),
        "method",
        "Age-assurance results stored for accounts (results only, never a document), by the method used.",
    ),
)


def compute(rows: Sequence[EventRow], period: Period, *, banks: dict[str, tuple[str, str]] | None = None) -> Statistics:
    """Every figure for `period` from `rows` (the output of `load_events`). Pure."""
    banks = banks or {}
    inside = [e for e in rows if e.created_at in period]
    by_type: dict[str, list[EventRow]] = defaultdict(list)
    for e in inside:
        by_type[e.type].append(e)
    figs: dict[str, Figure] = {}

    def fig(id: str, title: str, types: tuple[str, ...], definition: str, unit: str = "count") -> Figure:
        f = Figure(id, title, types, definition, unit=unit)
        figs[id] = f
        return f

    # 1. items checked
    f = fig(
        "items_checked",
        "Items checked",
        ("content.received", "message.received"),
        "Uploads and hash look-ups screened for the first time (content.received, by media kind), and "
        "conversation messages scored (message.received).",
    )
    for e in by_type["content.received"]:
        f.add("media_kind", str(e.data.get("media_kind")))
    f.add("media_kind", "message", len(by_type["message.received"]))
    f.total = len(by_type["content.received"]) + len(by_type["message.received"])

    # 2. matches by bank kind and source
    f = fig(
        "matches",
        "Hash matches by bank kind and source",
        ("content.verdict",),
        "Distinct (content item, bank entry) pairs named in matched_entries of content.verdict events; "
        "the bank's kind and source (provenance) are those the entry's bank was created with.",
    )
    seen: set[tuple[str, str]] = set()
    for e in by_type["content.verdict"]:
        for entry in e.data.get("matched_entries", []) or []:
            if (e.subject_id, entry) in seen:
                continue
            seen.add((e.subject_id, entry))
            kind, provenance = banks.get(str(entry), ("unknown", "unknown"))
            f.add("bank_kind", kind)
            f.add("source", provenance)
    f.total = len(seen)

    # 3. removals and restrictions
    decided = by_type["enforcement.decided"]
    f = fig(
        "decisions",
        "Removals and restrictions by policy and legal category",
        ("enforcement.decided",),
        "Enforcement decisions (each enforcement.decided event once), by Haven policy category, by the DSA "
        "statement category it maps to, by ground (illegal content or terms), and by the restrictions taken.",
    )
    for e in decided:
        cat = str(e.data.get("category"))
        dsa, illegal = dsa_category_of(cat)
        f.add("policy_category", cat)
        f.add("dsa_category", dsa)
        f.add("ground", "DECISION_GROUND_ILLEGAL_CONTENT" if illegal else "DECISION_GROUND_INCOMPATIBLE_CONTENT")
        f.add("source_type", str(e.data.get("source_type")))
        for r in e.data.get("restrictions", []) or []:
            f.add("restriction", str(r))
        if e.data.get("content_ids"):
            f.add("content_actioned", "items", len(e.data["content_ids"]))
    f.total = len(decided)

    # 4. automated vs human
    f = fig(
        "automation",
        "Automated and human decisions",
        ("enforcement.decided", "enforcement.confirmed"),
        "enforcement.decided by automated_decision (DSA AUTOMATED_DECISION_*) and automated_detection; "
        "enforcement.confirmed counts automated decisions a person confirmed afterwards.",
    )
    for e in decided:
        f.add("automated_decision", str(e.data.get("automated_decision")))
        f.add("automated_detection", "yes" if e.data.get("automated_detection") else "no")
    f.add("human_confirmation", "confirmed", len(by_type["enforcement.confirmed"]))
    f.total = len(decided)

    # 5. time to action
    first_seen: dict[tuple[str, str], datetime] = {}
    for e in rows:
        if e.type in ("content.received", "user_report.received", "conversation.flagged"):
            first_seen.setdefault((e.subject_type, e.subject_id), e.created_at)
    durations: dict[str, list[float]] = defaultdict(list)
    for e in decided + by_type["enforcement.no_violation"]:
        t0 = first_seen.get((e.subject_type, e.subject_id))
        if t0 is not None and t0 <= e.created_at:
            durations[e.subject_type].append((e.created_at - t0).total_seconds())
    every = [d for ds in durations.values() for d in ds]
    f = fig(
        "time_to_action",
        "Time to action (seconds)",
        (
            "content.received",
            "user_report.received",
            "conversation.flagged",
            "enforcement.decided",
            "enforcement.no_violation",
        ),
        "From the first content.received / user_report.received / conversation.flagged of a subject to its "
        "enforcement.decided or enforcement.no_violation in the period (earlier events read up to 90 days back). "
        "Median and 90th percentile, nearest rank.",
        unit="seconds",
    )
    f.total = len(every)
    f.breakdowns["overall"] = {"median": _percentile(every, 50) or 0, "p90": _percentile(every, 90) or 0}
    for subject, ds in sorted(durations.items()):
        f.breakdowns[f"{subject}"] = {"n": len(ds), "median": median(ds), "p90": _percentile(ds, 90) or 0}

    # 6. CyberTipline reports
    f = fig(
        "cybertipline_reports",
        "CyberTipline reports filed",
        ("report.finished",),
        "Reports submitted (report.finished) to the NCMEC CyberTipline, by environment (production or test) "
        "and category; median seconds from first knowledge to submission.",
    )
    secs = []
    for e in by_type["report.finished"]:
        f.add("recipient", f"NCMEC CyberTipline ({e.data.get('environment')})")
        f.add("category", str(e.data.get("category")))
        if isinstance(e.data.get("seconds_since_knowledge"), int | float):
            secs.append(float(e.data["seconds_since_knowledge"]))
    f.total = len(by_type["report.finished"])
    if secs:
        f.breakdowns["seconds_since_knowledge"] = {"median": median(secs), "p90": _percentile(secs, 90) or 0}
    f.add("retracted", "retracted", len(by_type["report.retracted"]))
    f.events = (*f.events, "report.retracted")

    # 7. evidence preserved
    f = fig(
        "evidence_preserved",
        "Evidence preserved",
        ("evidence.preserved", "evidence.hold_placed"),
        "Objects sealed into the evidence vault (evidence.preserved, by kind) and legal holds placed.",
    )
    for e in by_type["evidence.preserved"]:
        f.add("kind", str(e.data.get("kind")))
    f.add("legal_holds", "placed", len(by_type["evidence.hold_placed"]))
    f.total = len(by_type["evidence.preserved"])

    # 8. law-enforcement requests
    f = fig(
        "legal_requests",
        "Law-enforcement requests by kind",
        ("legal.request_received", "legal.produced"),
        "Requests logged in the period (legal.request_received, by kind and country); answered = a "
        "legal.produced for the request; in time = its first legal.produced at or before due_at (requests "
        "with no due date count as in time when answered).",
    )
    answered_at: dict[str, datetime] = {}
    for e in rows:
        if e.type == "legal.produced" and e.created_at < period.end:
            answered_at.setdefault(e.subject_id, e.created_at)
    for e in by_type["legal.request_received"]:
        kind = str(e.data.get("kind"))
        f.add("kind", kind)
        f.add("country", str(e.data.get("country")))
        t = answered_at.get(e.subject_id)
        if t is not None:
            f.add("answered", kind)
            due = _parse(e.data.get("due_at"))
            if due is None or t <= due:
                f.add("answered_in_time", kind)
    f.total = len(by_type["legal.request_received"])

    # 9. appeals
    f = fig(
        "appeals",
        "Appeals and overturn rate",
        ("appeal.filed", "appeal.decided", "enforcement.overturned"),
        "Appeals filed (appeal.filed) and decided (appeal.decided, by outcome); the overturn rate is upheld "
        "appeals over decided appeals; enforcement.overturned counts every reversed decision (appeal or review).",
    )
    for e in by_type["appeal.filed"]:
        f.add("filed_by_category", str(e.data.get("category")))
    for e in by_type["appeal.decided"]:
        f.add("outcome", str(e.data.get("outcome")))
    n_decided = len(by_type["appeal.decided"])
    upheld = f.breakdowns.get("outcome", {}).get("upheld", 0)
    f.breakdowns["rate"] = {"overturn_rate": round(upheld / n_decided, 4) if n_decided else 0}
    f.add("decisions_overturned", "all", len(by_type["enforcement.overturned"]))
    f.total = len(by_type["appeal.filed"])

    # 10. user notices
    f = fig(
        "user_notices",
        "User notices (DSA Art 16) by source",
        ("user_report.received", "notice_case.closed"),
        "Reports received (user_report.received) by source (trusted flagger or other; anonymous), by category; "
        "cases closed (notice_case.closed) by outcome.",
    )
    for e in by_type["user_report.received"]:
        f.add("source", "trusted_flagger" if e.data.get("trusted_flagger") else "other")
        if e.data.get("anonymous"):
            f.add("anonymous", "anonymous")
        f.add("category", str(e.data.get("report_category")))
        if e.data.get("imminent_risk"):
            f.add("imminent_risk", "imminent_risk")
    for e in by_type["notice_case.closed"]:
        f.add("case_outcome", str(e.data.get("outcome")))
    f.total = len(by_type["user_report.received"])

    # 11. accounts actioned by ladder step
    f = fig(
        "accounts_actioned",
        "Accounts actioned by ladder step",
        ("enforcement.decided", "strike.added"),
        "Decisions on accounts by the enforcement ladder's action (enforcement.decided ladder.action); "
        "distinct accounts actioned; strikes added (strike.added) by severity.",
    )
    accounts: set[str] = set()
    for e in decided:
        ladder = e.data.get("ladder")
        if isinstance(ladder, dict) and ladder.get("action"):
            f.add("ladder_step", str(ladder["action"]))
            if e.data.get("account_id"):
                accounts.add(str(e.data["account_id"]))
    for e in by_type["strike.added"]:
        f.add("strikes_by_severity", str(e.data.get("severity")))
    f.total = len(accounts)

    # 12. safety nudges shown (details and outcomes: haven.transparency.nudges)
    f = fig(
        "nudges_shown",
        "Safety nudges shown",
        ("safety.nudge",),
        "Safety messages shown to minors in flagged conversations (safety.nudge), by risk family.",
    )
    for e in by_type["safety.nudge"]:
        msg = e.data.get("message") or {}
        f.add("family", str(msg.get("family")) if isinstance(msg, dict) else None)
    f.total = len(by_type["safety.nudge"])

    f = fig(
        "exchange_signals",
        "Exchange signals consumed and shared",
        ("exchange.fetched", "exchange.feedback_sent", "exchange.entry_disputed"),
        "Hash entries received from industry exchanges (added, updated, deleted upstream: sums of"
        " exchange.fetched), and feedback sent back to them (exchange.feedback_sent by sentiment;"
        " exchange.entry_disputed for entries disabled after repeated overturns).",
    )
    for e in by_type["exchange.fetched"]:
        for part in ("added", "updated", "deleted"):
            f.add("received", part, int(e.data.get(part) or 0))
    for e in by_type["exchange.feedback_sent"]:
        f.add("feedback", str(e.data.get("sentiment")))
    for _e in by_type["exchange.entry_disputed"]:
        f.add("feedback", "disputed")
    f.total = sum(f.breakdowns.get("received", {}).values()) + len(by_type["exchange.feedback_sent"])

    f = fig(
        "financial_holds",
        "Financial holds",
        ("transaction.flagged", "finance.restricted"),
        "Payments a financial rule held or declined (transaction.flagged with outcome hold or decline,"
        " by outcome and category) and restrictions put on accounts (finance.restricted, by kind:"
        " payouts frozen, new payees limited). Payments only sent to review are not holds.",
    )
    for e in by_type["transaction.flagged"]:
        if e.data.get("outcome") in ("hold", "decline"):
            f.add("payments", str(e.data.get("outcome")))
            f.add("category", str(e.data.get("category")))
    for e in by_type["finance.restricted"]:
        f.add("restrictions", str(e.data.get("kind")))
    f.total = sum(f.breakdowns.get("payments", {}).values())

    for id, title, types, field_name, definition in TO_WIRE:
        f = fig(id, title, types, definition)
        if not all(t in catalogue.CATALOGUE for t in types):
            f.status, f.total = "to_wire", None
            continue
        for type_name in types:
            for e in by_type[type_name]:
                f.add(type_name, str(e.data.get(field_name)))
        f.total = sum(len(by_type[t]) for t in types)

    return Statistics(period, figs, len(inside))


def statistics(session: Session, period: Period) -> Statistics:
    """Load the period's events and compute every figure."""
    rows = load_events(session, period)
    entries = {str(x) for e in rows if e.type == "content.verdict" for x in e.data.get("matched_entries", []) or []}
    return compute(rows, period, banks=bank_dimensions(session, entries))


def type_counts(rows: Iterable[EventRow], period: Period) -> Counter[str]:
    """How many events of each type fall in the period (for the report's appendix)."""
    return Counter(e.type for e in rows if e.created_at in period)
