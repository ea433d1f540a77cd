"""Policy: turning signals, matches, scores and account context into a verdict.

Pure logic: same inputs, same verdict, and every verdict names the rule that fired. The rules
are YAML, versioned with the terms of service (`haven.policy.rules`); the installed versions live
in the database and belong to screening (`haven.screening.rulesets`). Nothing here does I/O
beyond reading the rules file shipped inside the package.
"""

from __future__ import annotations

from haven.policy.rules import (
    AccountView,
    ConversationView,
    Decision,
    PolicyInput,
    ReportView,
    RuleSet,
    TransactionView,
    WindowView,
    evaluate,
)
from haven.policy.verdict import MatchView, Verdict, decide_matches

__all__ = [
    "AccountView",
    "ConversationView",
    "Decision",
    "MatchView",
    "PolicyInput",
    "ReportView",
    "RuleSet",
    "TransactionView",
    "Verdict",
    "WindowView",
    "decide_matches",
    "evaluate",
]
