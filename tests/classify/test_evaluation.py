"""The evaluation set and `haven eval`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from haven.classify.conversation.detector import Detector
from haven.classify.evaluation import phrases
from haven.classify.evaluation.dataset import generate, stylise
from haven.classify.evaluation.run import evaluate
from haven.cli import app


def test_splits_are_large_labelled_deterministic_and_phrase_disjoint() -> None:
    tune, held = generate("tune"), generate("held_out")
    assert len(tune) == len(held) == 450
    assert {c.label for c in tune} == {"grooming", "sextortion", "benign"}
    assert {c.scene for c in held if c.label == "benign"} == {"birthday", "parent_child", "gaming", "adult_flirt"}
    assert [m.text for m in generate("tune")[7].messages] == [m.text for m in tune[7].messages]
    for key in phrases.TUNE:
        assert not set(phrases.TUNE[key]) & set(phrases.HELD_OUT[key]), key
    assert all(c.first_risky_turn for c in tune if c.label != "benign")
    assert all(c.first_risky_turn is None for c in tune if c.label == "benign")


def test_styles_change_the_text() -> None:
    import random

    rng = random.Random(3)
    variants = {stylise("don't tell anyone about us", rng) for _ in range(60)}
    assert len(variants) > 8


def test_metrics_are_computed_from_the_runs() -> None:
    convs = generate("tune")[:20] + generate("tune")[-20:]  # 20 grooming, 20 adult-flirt benign
    r = evaluate(Detector(), convs)
    g = r["grooming"]
    assert g["n"] == 20 and 0 < g["recall"] <= 1 and g["first_warning_turn_median"] >= 2
    # A detector that never warns finds nothing and raises no false alarm.
    silent = evaluate(Detector(grooming_threshold=2.0, sextortion_threshold=2.0), convs)
    assert silent["grooming"]["recall"] == 0 and silent["any_risk"]["false_alarm_rate_benign"] == 0
    # One that always warns finds everything and alarms on every benign chat.
    loud = evaluate(Detector(grooming_threshold=0.0, sextortion_threshold=2.0), convs)
    assert loud["any_risk"]["false_alarm_rate_benign"] >= 0.5


def test_haven_eval_prints_figures_for_both_splits(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HAVEN_VAR_DIR", str(tmp_path))
    runner = CliRunner()
    r = runner.invoke(app, ["eval", "--json", "--no-images"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    for split in ("tune", "held_out"):
        assert out[split]["conversations"] == 450
        assert 0.5 < out[split]["grooming"]["recall"] <= 1.0
        assert out[split]["any_risk"]["false_alarm_rate_benign"] < 0.05
    bad = runner.invoke(app, ["eval", "--split", "nope"])
    assert bad.exit_code != 0 and "split" in bad.output
