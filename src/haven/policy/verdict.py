"""Verdicts: their shape, and the view of a match that policy rules read.

The rules live in `haven/policy/defaults/rules.yaml` (see `haven.policy.rules`); the default
set decides matches like this, in order (the first that applies decides):
1. `allowlist.suppress`: handled before this point; suppressed matches never reach here.
2. `known_material.block`: an active match against a known-material bank within its threshold
   and outside the near-threshold band -> block.
3. `known_material.near_threshold`: only near-threshold perceptual matches -> review.
4. `known_material.quarantined_entry`: only matches of entries under flood quarantine -> review.
5. `no_match.allow`: nothing matched -> allow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

#: `hold` is for messages only (the rules check refuses it elsewhere): keep it from its recipients.
VerdictAction = Literal["allow", "review", "hold", "block"]

#: Bank kinds whose matches mean "known material".
KNOWN_KINDS = frozenset({"known_csam", "known_exploitation", "ncii", "local_confirmed"})


@dataclass(frozen=True)
class MatchView:
    """What policy needs to know of one match."""

    bank_kind: str
    signal_type: str
    distance: int
    threshold: int
    status: str  # active, quarantined, allowlisted, low_quality
    classification: str | None = None


@dataclass(frozen=True)
class Verdict:
    action: VerdictAction
    rule: str
    reason: str
    labels: list[str] = field(default_factory=list)


def is_near_threshold(m: MatchView, band: int) -> bool:
    return m.signal_type == "pdq" and band > 0 and m.distance > m.threshold - band


def decide_matches(matches: list[MatchView], *, near_band: int = 0, scores: dict[str, Any] | None = None) -> Verdict:
    """The verdict for one item's matches (and classifier scores, shaped like
    `ContentItem.scores`) under the default rules shipped with Haven.

    Kept for callers without a database (the `haven scan` command, evaluation); intake decides
    with `haven.policy.decide`, which uses the installed rules and the account's context too.
    """
    # rules.py builds on this module (MatchView, Verdict): the rule engine is imported when called.
    from haven.policy.rules import PolicyInput, evaluate
    from haven.policy.shipped import default_ruleset

    inp = PolicyInput(matches=tuple(matches), scores=scores or {})
    return evaluate(default_ruleset(), inp, near_band=near_band).verdict
