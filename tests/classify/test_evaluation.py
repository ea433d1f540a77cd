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


def test_haven_eval_reports_each_set_separately(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HAVEN_VAR_DIR", str(tmp_path))
    runner = CliRunner()
    r = runner.invoke(app, ["eval", "--json", "--no-images", "--set", "generated"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert "memory, not detection" in out["generated"]["note"]
    for split in ("tune", "held_out"):
        assert out["generated"][split]["conversations"] == 450
        assert 0.5 < out["generated"][split]["grooming"]["recall"] <= 1.0
        assert out["generated"][split]["any_risk"]["false_alarm_rate_benign"] < 0.05
    dev = json.loads(runner.invoke(app, ["eval", "--json", "--no-images", "--set", "dev"]).output)["dev"]
    assert dev["file"] == "dev_v1.jsonl" and dev["conversations"] >= 100
    assert set(dev["languages"]) >= {"en", "es", "pt"}
    a = dev["all"]
    assert a["risky"]["n"] == a["grooming"]["n"] + a["sextortion"]["n"]
    assert a["risky"]["n"] == sum(dev[lang]["risky"]["n"] for lang in dev["languages"])
    assert 0 <= a["risky"]["fraction_warned_by_warn_by"] <= a["risky"]["recall"] <= 1
    assert set(dev["targets_met"]) == {
        "risky_warned_by_warn_by_at_least_80pct",
        "every_sextortion_at_threat_and_demand",
        "at_most_1_false_alarm_per_12_benign",
    }
    bad = runner.invoke(app, ["eval", "--split", "nope"])
    assert bad.exit_code != 0 and "split" in bad.output
    bad = runner.invoke(app, ["eval", "--set", "nope"])
    assert bad.exit_code != 0 and "set" in bad.output


def test_a_missing_held_out_file_is_skipped_with_a_line_and_a_present_one_is_read(monkeypatch, tmp_path) -> None:
    from haven.classify.evaluation import run

    monkeypatch.setenv("HAVEN_VAR_DIR", str(tmp_path))
    monkeypatch.setitem(run.WRITTEN_FILES, "heldout_v4", "no-such-file-v0.jsonl")
    runner = CliRunner()
    r = runner.invoke(app, ["eval", "--no-images", "--set", "heldout_v4"])
    assert r.exit_code == 0 and "skipped" in r.output and "no-such-file-v0.jsonl" in r.output
    assert "heldout_v4 (seen during round 5 of tuning: no longer held out)" in r.output
    # A file that exists is read (a stand-in written here, in a temporary folder).
    fake = tmp_path / "stand-in.jsonl"
    fake.write_text(json.dumps(_conv("s-1", "benign", ["see you at practice at 5", "ok coach"], None)) + "\n")
    monkeypatch.setattr(run, "data_path", lambda name: fake)
    both = json.loads(runner.invoke(app, ["eval", "--json", "--no-images", "--set", "heldout"]).output)
    for name in ("heldout_v1", "heldout_v2", "heldout_v3", "heldout_v4"):  # every held-out file, each apart
        assert both[name]["conversations"] == 1 and both[name]["all"]["benign"]["n"] == 1


def test_held_out_sets_read_while_tuning_are_labelled_as_seen() -> None:
    from haven.classify.evaluation.run import SET_NOTES, set_names

    assert SET_NOTES["heldout_v1"].startswith("heldout_v1 (seen during round 2 of tuning: no longer held out)")
    assert SET_NOTES["heldout_v2"].startswith("heldout_v2 (seen during round 3 of tuning: no longer held out)")
    assert SET_NOTES["heldout_v3"].startswith("heldout_v3 (seen during round 4 of tuning: no longer held out)")
    assert SET_NOTES["heldout_v4"].startswith("heldout_v4 (seen during round 5 of tuning: no longer held out)")
    assert SET_NOTES["heldout_v5"].startswith("heldout_v5 (seen during round 5 of tuning: no longer held out)")
    assert set_names("heldout")[:5] == ("heldout_v1", "heldout_v2", "heldout_v3", "heldout_v4", "heldout_v5")
    assert "heldout_v4" not in set_names("unseen") and "heldout_v5" not in set_names("unseen")
    assert set_names("dev") == ("dev",)


def _conv(cid: str, label: str, lines: list[str], warn_by: int | None, lang: str = "en") -> dict:
    return {
        "id": cid,
        "language": lang,
        "label": label,
        "scene": "test",
        "behaviours": [],
        "bands": {"A": "adult", "B": "13_15"},
        "connected": False,
        "warn_by": warn_by,
        "messages": [{"sender": "A" if i % 2 == 0 else "B", "text": t} for i, t in enumerate(lines)],
    }


def test_written_set_figures_come_from_the_runs() -> None:
    from haven.classify.evaluation.sets import evaluate_written, parse_line

    rows = [
        _conv("g-1", "grooming", ["hi", "hey", "dont tell ur mom we talk ok", "ok"], 3),
        _conv("g-2", "grooming", ["hi", "hey", "how was school", "fine", "add me on snap its more private"], 3, "es"),
        _conv("b-1", "benign", ["happy birthday! how old are you now?", "13!!"], None),
    ]
    convs = [parse_line(json.dumps(r)) for r in rows]
    r = evaluate_written(Detector(0.5, 0.5), convs)
    g = r["all"]["grooming"]
    assert g["n"] == 2 and g["warned"] == 2 and g["warned_by_warn_by"] == 1  # the second warned at 5 > 3
    assert g["lateness_median"] == 1  # (0 + 2) / 2
    assert r["en"]["grooming"]["n"] == 1 and r["es"]["grooming"]["warned_by_warn_by"] == 0
    assert r["all"]["benign"]["false_alarms"] == 0
    silent = evaluate_written(Detector(2.0, 2.0), convs)["all"]
    assert silent["risky"]["recall"] == 0 and silent["benign"]["false_alarms_per_12"] == 0
    loud = evaluate_written(Detector(0.0, 2.0), convs)["all"]
    assert loud["benign"]["false_alarms"] == 1 and loud["benign"]["false_alarms_per_12"] == 12


def test_bad_lines_are_refused_with_their_place() -> None:
    import pytest

    from haven.classify.evaluation.sets import parse_line

    with pytest.raises(ValueError, match=r"x:1.*warn_by"):
        parse_line(json.dumps(_conv("g", "grooming", ["hi"], 5)), "x:1")
    with pytest.raises(ValueError, match="label"):
        parse_line(json.dumps(_conv("g", "maybe", ["hi"], 1)))


def _keys(x: object) -> set[str]:
    if isinstance(x, dict):
        return set(x) | {k for v in x.values() for k in _keys(v)}
    if isinstance(x, list):
        return {k for v in x for k in _keys(v)}
    return set()


def test_an_unseen_set_prints_totals_only_unless_detail(monkeypatch, tmp_path) -> None:
    """Which conversations of a fresh held-out set failed, and which benign scenes alarmed, is
    what tuning reads: `haven eval` keeps it back for sets not yet seen (the counts stay)."""
    from haven.classify.evaluation import run
    from haven.classify.evaluation.sets import DETAIL_KEYS

    monkeypatch.setenv("HAVEN_VAR_DIR", str(tmp_path))
    fake = tmp_path / "stand-in.jsonl"
    lines = [
        _conv("s-1", "benign", ["see you at practice at 5", "ok coach"], None),
        _conv("s-2", "grooming", ["hi", "hello"], 1),
    ]
    fake.write_text("".join(json.dumps(c) + "\n" for c in lines))
    monkeypatch.setattr(run, "data_path", lambda name: fake)
    monkeypatch.setitem(run.WRITTEN, "heldout_v4", dict(run.WRITTEN["heldout_v4"], seen=False))
    runner = CliRunner()
    args = ["eval", "--json", "--no-images", "--no-model", "--set", "heldout_v4"]
    unseen = json.loads(runner.invoke(app, args).output)["heldout_v4"]
    assert unseen["totals_only"] is True and not _keys(unseen) & DETAIL_KEYS
    assert unseen["all"]["benign"]["n"] == 1 and unseen["all"]["risky"]["n"] == 1
    detailed = json.loads(runner.invoke(app, [*args, "--detail"]).output)["heldout_v4"]
    assert _keys(detailed) >= DETAIL_KEYS and "totals_only" not in detailed
    assert detailed["all"]["risky"]["first_warning_vs_warn_by"][0]["id"] == "s-2"
    table = runner.invoke(app, args[:1] + args[2:])
    assert table.exit_code == 0 and "totals only" in table.output and "s-2" not in table.output
    monkeypatch.setitem(run.WRITTEN, "heldout_v4", dict(run.WRITTEN["heldout_v4"], seen=True))
    seen = json.loads(runner.invoke(app, args).output)["heldout_v4"]
    assert _keys(seen) >= DETAIL_KEYS  # a seen set keeps its detail
