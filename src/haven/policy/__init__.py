"""Policy: turning signals, matches, scores and account context into a verdict.

Pure logic: same inputs, same verdict, and every verdict names the rule that fired. The rules
are YAML, versioned with the terms of service (`haven.policy.rules`, `haven.policy.store`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from haven.policy.rules import AccountView, Decision, PolicyInput, ReportView, RuleSet, evaluate
from haven.policy.verdict import MatchView, Verdict, decide_matches

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def decide(session: Session, inp: PolicyInput, *, near_band: int | None = None) -> Decision:
    """Decide with the active rule set (the installed one, else the default shipped with Haven)."""
    from haven.policy.store import active_ruleset

    return evaluate(active_ruleset(session), inp, near_band=near_band)


__all__ = [
    "AccountView",
    "Decision",
    "MatchView",
    "PolicyInput",
    "ReportView",
    "RuleSet",
    "Verdict",
    "decide",
    "decide_matches",
    "evaluate",
]
