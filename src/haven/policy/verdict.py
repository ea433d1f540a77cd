"""Verdicts from hash matches.

The rules, in order (the first that applies decides):
1. `allowlist.suppress`: handled before this point; suppressed matches never reach here.
2. `known_material.block`: an active match against a known-material bank within its threshold
   and outside the near-threshold band -> block.
3. `known_material.near_threshold`: only near-threshold perceptual matches -> review.
4. `known_material.quarantined_entry`: only matches of entries under flood quarantine -> review.
5. `no_match.allow`: nothing matched -> allow.

Then, separately and never terminating: `classifier.review` (see `apply_classifier_review`):
classifier scores over their configured thresholds turn an `allow` into a `review`. A classifier
never blocks and never overrides a match-based verdict; it only proposes a human look.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

VerdictAction = Literal["allow", "review", "block"]

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


def decide_matches(
    matches: list[MatchView],
    *,
    near_band: int = 0,
    scores: dict[str, Any] | None = None,
    thresholds: dict[str, float] | None = None,
) -> Verdict:
    """The verdict for one item's matches, then the classifier rule when scores are given."""
    verdict = _decide_matches(matches, near_band=near_band)
    if scores:
        verdict = apply_classifier_review(verdict, scores, thresholds or {})
    return verdict


def classifier_hits(scores: dict[str, Any], thresholds: dict[str, float]) -> list[tuple[str, float, float]]:
    """(classifier.label, score, threshold) for every score at or over its threshold."""
    hits = []
    for key, limit in sorted(thresholds.items()):
        name, _, label = key.partition(".")
        value = scores.get(name, {}).get("scores", {}).get(label)
        if value is not None and float(value) >= limit:
            hits.append((key, float(value), limit))
    return hits


def apply_classifier_review(verdict: Verdict, scores: dict[str, Any], thresholds: dict[str, float]) -> Verdict:
    """Rule `classifier.review`: scores over thresholds -> review, never block, never terminal.

    A verdict that is already review or block stands (the classifier cannot lower a block nor
    raise anything to a block); the labels of the scores that fired are added for the reviewer.
    """
    hits = classifier_hits(scores, thresholds)
    if not hits:
        return verdict
    labels = [f"classifier:{k}" for k, _, _ in hits]
    if verdict.action != "allow":
        return Verdict(verdict.action, verdict.rule, verdict.reason, labels=verdict.labels + labels)
    reason = "classifier scores over threshold: " + ", ".join(f"{k} {v:.2f} >= {t:.2f}" for k, v, t in hits)
    return Verdict("review", "classifier.review", reason + "; a person must look", labels=labels)


def _decide_matches(matches: list[MatchView], *, near_band: int = 0) -> Verdict:
    known = [m for m in matches if m.bank_kind in KNOWN_KINDS]
    active = [m for m in known if m.status == "active"]
    firm = [m for m in active if not is_near_threshold(m, near_band)]
    if firm:
        kinds = sorted({m.bank_kind for m in firm})
        classes = sorted({m.classification for m in firm if m.classification})
        return Verdict(
            "block",
            "known_material.block",
            f"matched {len(firm)} known-material entr{'y' if len(firm) == 1 else 'ies'} ({', '.join(kinds)})",
            labels=classes,
        )
    if active:
        return Verdict(
            "review", "known_material.near_threshold", "only near-threshold perceptual matches; a person must confirm"
        )
    if any(m.status == "quarantined" for m in known):
        return Verdict(
            "review",
            "known_material.quarantined_entry",
            "matched only entries under flood quarantine; a person must confirm",
        )
    return Verdict("allow", "no_match.allow", "no known-material match")
