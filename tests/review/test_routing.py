"""Which queue a verdict goes to, and when a block needs a person (pure parts of the subscriber)."""

from __future__ import annotations

from haven.review.subscriber import _max_score, queue_for_verdict


def test_queue_for_verdict() -> None:
    assert queue_for_verdict("known_material.block", "image") == "known_material"
    assert queue_for_verdict("known_material.near_threshold", "image") == "known_material"
    assert queue_for_verdict("classifier.explicit_minor", "image") == "new_material"
    assert queue_for_verdict("grooming.pattern", "text") == "grooming"
    assert queue_for_verdict("text.sextortion_threat", "text") == "grooming"
    assert queue_for_verdict("anything", "text") == "grooming"
    assert queue_for_verdict("anything", "image", requested="user_reports") == "user_reports"
    assert queue_for_verdict("anything", "image", requested="no_such_queue") == "new_material"


def test_max_score_reads_classifier_results() -> None:
    scores = {"nsfw": {"version": "1", "scores": {"explicit": 0.82, "safe": 0.1}}, "bad": "x", "age": {"scores": 3}}
    assert _max_score(scores) == 0.82
    assert _max_score({}) == 0.0
