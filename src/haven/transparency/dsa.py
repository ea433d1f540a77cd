"""The DSA transparency report's quantitative sections (Implementing Regulation (EU) 2024/2835,
Annex I, part II, template 1) filled from the statistics.

Categories are the DSA statement categories Haven's policy categories map to
(`haven.policy.categories`, vocabulary in `haven.policy.dsa`); every row names the event types it
was counted from. The CSV is long-format (one row per section, field and breakdown), which is
what the Commission's template sheets flatten to and what a spreadsheet pivots; the XLSX holds
the same rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from haven.policy import dsa
from haven.transparency.stats import Figure, Statistics, dsa_category_of
from haven.transparency.suppress import Published, cell

COLUMNS = ("section", "section_title", "field", "breakdown", "value", "source_events")

SECTIONS = {
    "1.1": "Report identification",
    "1.2": "Article 15(1)(a). Member State orders",
    "1.3": "Article 15(1)(b). Notices submitted in accordance with Article 16",
    "1.4": "Article 15(1)(c). Own-initiative content moderation",
    "1.5": "Articles 15(1)(d), 24(1)(a) and 24(1)(b). Complaints, out-of-court settlement, suspensions",
    "1.6": "Articles 15(1)(b)(c)(e), 42(2)(c). Use of automated means",
}


@dataclass(frozen=True)
class Row:
    section: str
    field: str
    breakdown: str
    value: float | str | None
    source_events: tuple[str, ...]
    #: A median or rate over `n` items: published when n reaches the threshold, never as "<k".
    summary_of: float | None = None

    def published(self, threshold: int) -> tuple[str, ...]:
        v: Published
        if self.summary_of is not None:
            v = self.value if self.summary_of >= threshold else "suppressed"  # type: ignore[assignment]
        else:
            v = self.value if isinstance(self.value, str) else cell(self.value, threshold)
        return (
            self.section,
            SECTIONS[self.section],
            self.field,
            self.breakdown,
            "" if v is None else str(v),
            " ".join(self.source_events),
        )


def _b(f: Figure, name: str) -> dict[str, float]:
    return f.breakdowns.get(name, {})


def rows(stats: Statistics, *, service: str = "") -> Iterator[Row]:
    """Every row of the quantitative template, in template order."""
    figs = stats.figures
    p = stats.period
    yield Row("1.1", "service_name", "", service or "unspecified", ())
    yield Row("1.1", "reporting_period_start", "", p.start.date().isoformat(), ())
    yield Row("1.1", "reporting_period_end", "", (p.end - timedelta(seconds=1)).date().isoformat(), ())

    legal = figs["legal_requests"]
    ev = legal.events
    for kind, n in sorted(_b(legal, "kind").items()):
        yield Row("1.2", "orders_received", kind, n, ev)
        yield Row("1.2", "orders_answered", kind, _b(legal, "answered").get(kind, 0), ev)
        yield Row("1.2", "orders_answered_in_time", kind, _b(legal, "answered_in_time").get(kind, 0), ev)
    for country, n in sorted(_b(legal, "country").items()):
        yield Row("1.2", "orders_by_member_state", country, n, ("legal.request_received",))

    notices = figs["user_notices"]
    ev = ("user_report.received",)
    per_cat: dict[str, float] = {}
    for cat, n in _b(notices, "category").items():
        per_cat[dsa_category_of(cat)[0]] = per_cat.get(dsa_category_of(cat)[0], 0) + n
    for dsa_cat in dsa.STATEMENT_CATEGORY:
        if dsa_cat in per_cat:
            yield Row("1.3", "notices_by_category", dsa_cat, per_cat[dsa_cat], ev)
    yield Row("1.3", "notices_total", "", notices.total, ev)
    yield Row("1.3", "notices_by_trusted_flaggers", "", _b(notices, "source").get("trusted_flagger", 0), ev)
    yield Row("1.3", "notices_anonymous", "", _b(notices, "anonymous").get("anonymous", 0), ev)
    for outcome, n in sorted(_b(notices, "case_outcome").items()):
        yield Row("1.3", "notice_cases_closed_by_outcome", outcome, n, ("notice_case.closed",))

    decisions = figs["decisions"]
    ev = decisions.events
    by_source = _b(decisions, "source_type")
    notice_actions = sum(n for s, n in by_source.items() if s in ("SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER"))
    yield Row("1.3", "actions_taken_on_notices", "", notice_actions, ev)
    yield Row("1.4", "own_initiative_decisions", "", by_source.get("SOURCE_VOLUNTARY", 0), ev)
    for dsa_cat in dsa.STATEMENT_CATEGORY:
        count = _b(decisions, "dsa_category").get(dsa_cat)
        if count:
            yield Row("1.4", "decisions_by_category", dsa_cat, count, ev)
    for ground in dsa.DECISION_GROUND:
        yield Row("1.4", "decisions_by_ground", ground, _b(decisions, "ground").get(ground, 0), ev)
    for restriction, n in sorted(_b(decisions, "restriction").items()):
        yield Row("1.4", "restrictions_by_type", restriction, n, ev)
    auto = figs["automation"]
    for value in dsa.AUTOMATED_DECISION:
        yield Row("1.4", "decisions_by_automation", value, _b(auto, "automated_decision").get(value, 0), auto.events)
    yield Row(
        "1.4",
        "detected_by_automated_means",
        "",
        _b(auto, "automated_detection").get("yes", 0),
        ("enforcement.decided",),
    )

    appeals = figs["appeals"]
    yield Row("1.5", "complaints_received", "", appeals.total, ("appeal.filed",))
    for outcome, n in sorted(_b(appeals, "outcome").items()):
        yield Row("1.5", "complaints_decided", outcome, n, ("appeal.decided",))
    yield Row("1.5", "decisions_reversed", "", _b(appeals, "outcome").get("upheld", 0), ("appeal.decided",))
    actioned = figs["accounts_actioned"]
    for step in ("suspend", "terminate"):
        yield Row(
            "1.5",
            "suspensions_art23_and_ladder",
            step,
            _b(actioned, "ladder_step").get(step, 0),
            ("enforcement.decided",),
        )

    checked = figs["items_checked"]
    yield Row("1.6", "items_screened_automatically", "", checked.total, checked.events)
    matches = figs["matches"]
    for kind, n in sorted(_b(matches, "bank_kind").items()):
        yield Row("1.6", "hash_matches_by_bank_kind", kind, n, matches.events)
    tta = figs["time_to_action"]
    overall = _b(tta, "overall")
    if tta.total:
        yield Row("1.6", "median_seconds_to_action", "", overall.get("median", 0), tta.events, summary_of=tta.total)
        yield Row("1.6", "p90_seconds_to_action", "", overall.get("p90", 0), tta.events, summary_of=tta.total)


def to_csv(stats: Statistics, threshold: int, *, service: str = "") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows(stats, service=service):
        w.writerow(r.published(threshold))
    return buf.getvalue()
