"""Pure rules: `classifier.review` in policy and the possible-new-material priority."""

from __future__ import annotations

from haven.classify.priority import new_material_priority
from haven.policy import MatchView, decide_matches


def _scores(nsfw: float, minor: float = 0.0) -> dict:
    return {
        "opennsfw": {"version": "t", "scores": {"nsfw": nsfw}},
        "apparent_age": {"version": "t", "scores": {"face": 0.9 if minor else 0.0, "minor": minor}},
    }


def test_classifier_scores_over_threshold_propose_review_never_block() -> None:
    # The default rules send opennsfw.nsfw >= 0.85 to review (rule classifier.review).
    v = decide_matches([], scores=_scores(0.95))
    assert (v.action, v.rule) == ("review", "classifier.review")
    assert "opennsfw.nsfw" in v.reason
    # Under the threshold, or without scores, nothing changes.
    assert decide_matches([], scores=_scores(0.5)).action == "allow"
    assert decide_matches([]).rule == "no_match.allow"


def test_classifier_rule_never_overrides_a_match_verdict() -> None:
    firm = [MatchView("known_csam", "pdq", 3, 31, "active", "A1")]
    v = decide_matches(firm, scores=_scores(0.99))
    assert v.action == "block" and v.rule == "known_material.block"
    held = [MatchView("known_csam", "pdq", 3, 31, "quarantined", "A1")]
    assert decide_matches(held, scores=_scores(0.99)).rule == "known_material.quarantined_entry"
    # A low score never lowers a block either.
    assert decide_matches(firm, scores=_scores(0.0)).action == "block"


def _prio(nsfw: float, **kw: object):
    args = {
        "uploader_band": "adult",
        "recipient_bands": [],
        "surface": "upload",
        "has_matches": False,
        "explicit_threshold": 0.6,
        "minor_threshold": 0.5,
    }
    args.update(kw)
    return new_material_priority(_scores(nsfw, float(args.pop("minor", 0.0))), **args)  # type: ignore[arg-type]


def test_priority_needs_explicit_imagery_and_grows_with_minor_signals() -> None:
    assert _prio(0.3).level == "NONE"
    assert _prio(0.3, recipient_bands=["13_15"]).level == "NONE"  # minors alone are not "new material"
    adult = _prio(0.9)
    assert adult.labels == ["explicit_adult"] and adult.score <= 0.3
    to_minor = _prio(0.9, recipient_bands=["13_15", "adult"], surface="message")
    assert to_minor.labels == ["possible_new_csam", "explicit_to_minor"]
    assert to_minor.score >= 0.4 and to_minor.level in ("MEDIUM", "HIGH")
    worst = _prio(0.9, uploader_band="13_15", recipient_bands=["13_15"], surface="message", minor=0.9, has_matches=True)
    assert worst.level == "VERY_HIGH" and "self_generated_content" in worst.labels
    assert worst.score > to_minor.score > adult.score
    face_only = _prio(0.9, minor=0.8)
    assert face_only.labels == ["possible_new_csam"] and any("weak signal" in r for r in face_only.reasons)
