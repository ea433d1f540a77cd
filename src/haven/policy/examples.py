"""Example cases for rules files (`haven policy test FILE`): each case gives an input and the
expected verdict (action, rule, and optionally labels and category)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from haven.policy.rules import (
    AccountView,
    ConversationView,
    PolicyInput,
    ReportView,
    RulesError,
    RuleSet,
    evaluate,
    parse,
)
from haven.policy.verdict import MatchView


@dataclass(frozen=True)
class CaseResult:
    name: str
    ok: bool
    expected: dict[str, Any]
    got: dict[str, Any]


def _conversation(raw: dict[str, Any]) -> ConversationView:
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    return ConversationView(**fields)


def to_input(raw: dict[str, Any]) -> PolicyInput:
    """A PolicyInput from the YAML/JSON form used in example files."""
    acct = raw.get("account")
    conv = raw.get("conversation")
    return PolicyInput(
        matches=tuple(MatchView(**m) for m in raw.get("matches", [])),
        scores=dict(raw.get("scores", {})),
        reports=tuple(ReportView(**r) for r in raw.get("reports", [])),
        account=AccountView(**acct) if acct else None,
        surface=raw.get("surface"),
        media_kind=raw.get("media_kind"),
        conversation=_conversation(conv) if conv else None,
    )


def load(path: Path) -> tuple[RuleSet, list[dict[str, Any]]]:
    doc = yaml.safe_load(path.read_text())
    if not isinstance(doc, dict) or "cases" not in doc or "rules" not in doc:
        raise RulesError([f"{path}: an examples file has 'rules' (a path) and 'cases'"])
    rules_path = (path.parent / str(doc["rules"])).resolve()
    return parse(rules_path.read_text()), list(doc["cases"])


def run(rs: RuleSet, cases: list[dict[str, Any]]) -> list[CaseResult]:
    out = []
    for i, case in enumerate(cases):
        expected = dict(case.get("expect") or {})
        try:
            d = evaluate(rs, to_input(case.get("input") or {}))
        except TypeError as exc:
            out.append(CaseResult(case.get("name", f"case {i}"), False, expected, {"error": str(exc)}))
            continue
        got = {"action": d.verdict.action, "rule": d.verdict.rule, "labels": d.verdict.labels, "category": d.category}
        ok = all(got.get(k) == v for k, v in expected.items())
        out.append(CaseResult(case.get("name", f"case {i}"), ok and bool(expected), expected, got))
    return out
