"""The "possible new child sexual abuse material" review priority.

No single signal here is proof, and the explicit-imagery and apparent-age models have never been
measured on real positives (none exist here to calibrate on). So the priority is a transparent
sum of weak signals, each named in the result, meant to order a human review queue:

- explicit imagery score at or above `explicit_threshold` (required: without it there is no
  "possible new material", only whatever the other rules say);
- an apparent minor in the picture (face + apparent age, weak);
- the uploader's declared or assured age band is a minor's (self-generated imagery);
- a recipient is a minor (an adult sending explicit imagery to a child is itself a review case);
- a private surface (direct message) rather than a public post;
- a match of the item against a known-material bank (near-threshold or quarantined entries).

Levels mirror Google's Content Safety API: VERY_LOW, LOW, MEDIUM, HIGH, VERY_HIGH.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from haven.accounts.bands import MINOR_BANDS
from haven.classify.registry import score_of

PRIVATE_SURFACES = frozenset({"message", "dm", "direct_message", "chat"})
LEVELS = ("NONE", "VERY_LOW", "LOW", "MEDIUM", "HIGH", "VERY_HIGH")


@dataclass(frozen=True)
class Priority:
    level: str
    score: float  # 0..1, for sorting and for the policy threshold "new_material.possible_new_csam"
    labels: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def to_scores(self) -> dict[str, Any]:
        """The pseudo-classifier entry stored with the content's scores."""
        return {
            "version": "priority-1",
            "scores": {"possible_new_csam": round(self.score, 4)},
            "details": {"level": self.level, "labels": self.labels, "reasons": self.reasons},
        }


def new_material_priority(
    scores: dict[str, Any],
    *,
    uploader_band: str | None,
    recipient_bands: list[str],
    surface: str | None,
    has_matches: bool,
    explicit_threshold: float,
    minor_threshold: float,
) -> Priority:
    """Combine the signals; pure, so a reviewer can be shown exactly why."""
    explicit = max(
        [
            v
            for v in (score_of(scores, k) for k in ("opennsfw.nsfw", "thorn_safer.pornography", "hive.general_nsfw"))
            if v is not None
        ],
        default=0.0,
    )
    external_csam = max(
        [
            v
            for v in (score_of(scores, k) for k in ("thorn_safer.csam", "hive.csam", "google_csapi.priority"))
            if v is not None
        ],
        default=0.0,
    )
    if explicit < explicit_threshold and external_csam < 0.5:
        return Priority("NONE", 0.0)
    points = 1.0
    labels: list[str] = []
    reasons = [f"explicit-imagery score {explicit:.2f}" if explicit >= explicit_threshold else "external classifier"]
    if external_csam >= 0.5:
        points += 2.0
        reasons.append(f"external CSAM classifier score {external_csam:.2f}")
    minor_face = score_of(scores, "apparent_age.minor") or 0.0
    if minor_face >= minor_threshold:
        points += 1.5
        reasons.append(f"apparent minor in the picture (weak signal, {minor_face:.2f})")
    if uploader_band in MINOR_BANDS:
        points += 2.0
        labels.append("self_generated_content")
        reasons.append(f"uploader's age band is {uploader_band}")
    minors = [b for b in recipient_bands if b in MINOR_BANDS]
    if minors:
        points += 1.5
        labels.append("explicit_to_minor")
        reasons.append(f"{len(minors)} recipient(s) are minors")
    if (surface or "").lower() in PRIVATE_SURFACES:
        points += 0.5
        reasons.append("sent privately")
    if has_matches:
        points += 1.0
        reasons.append("also matched a known-material bank entry (not firmly)")
    minor_evidence = (
        minor_face >= minor_threshold or uploader_band in MINOR_BANDS or bool(minors) or external_csam >= 0.5
    )
    if minor_evidence:
        labels.insert(0, "possible_new_csam")
    else:
        labels.insert(0, "explicit_adult")
    score = min(1.0, points / 6.0) if minor_evidence else min(0.3, points / 6.0)
    level = LEVELS[min(5, 1 + int(score * 5 - 1e-9))] if score > 0 else "NONE"
    return Priority(level, score, labels, reasons)
