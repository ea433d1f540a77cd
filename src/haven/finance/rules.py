"""The financial rule set: the shipped `defaults/rules.yaml` or the operator's
(`HAVEN_FINANCE_RULES_FILE`), parsed and checked by the one policy engine, and checked against
the windows finance keeps (a rule may only read a window that is kept)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from haven.finance.aggregates import window_seconds
from haven.policy.rules import RulesError, RuleSet, When, parse


@dataclass(frozen=True)
class FinanceRules:
    ruleset: RuleSet
    windows: list[str]


def default_text() -> str:
    return resources.files("haven.finance").joinpath("defaults/rules.yaml").read_text()


def _windows_of(w: When) -> set[str]:
    out: set[str] = set()
    t = w.transaction
    if t is not None:
        out |= {c.window for c in (t.payer, t.payee, t.pair) if c is not None}
    for alt in w.any or []:
        out |= _windows_of(alt)
    return out


def load(text: str, windows: list[str]) -> FinanceRules:
    """Parse a financial rules file; RulesError lists every problem."""
    for w in windows:
        window_seconds(w)
    rs = parse(text)
    problems = []
    for r in rs.rules:
        if r.when.is_empty():
            continue
        if "transaction" not in r.when.kinds():
            problems.append(f"{r.name}: a financial rule needs a transaction condition")
        missing = _windows_of(r.when) - set(windows)
        if missing:
            problems.append(
                f"{r.name}: window(s) {', '.join(sorted(missing))} not kept "
                f"(HAVEN_FINANCE_WINDOWS: {', '.join(windows)})"
            )
    if problems:
        raise RulesError(problems)
    return FinanceRules(rs, list(windows))


@lru_cache(maxsize=4)
def _cached(path: str | None, windows: tuple[str, ...]) -> FinanceRules:
    text = Path(path).read_text() if path else default_text()
    return load(text, list(windows))


def active(rules_file: Path | None, windows: list[str]) -> FinanceRules:
    return _cached(str(rules_file) if rules_file else None, tuple(windows))
