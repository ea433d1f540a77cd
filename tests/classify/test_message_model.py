"""The trained message model: shipped as data, loaded with numpy, scored deterministically, rebuilt
by its script, combined with the rules in the one detector with its own explanation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from haven.classify.conversation.detector import ConversationState, Detector, MessageContext
from haven.classify.conversation.model import (
    HEADS,
    MessageModel,
    ModelFileError,
    char_ngrams,
    direction_key,
    load_model,
    model_path,
)
from haven.classify.evaluation import run
from haven.classify.evaluation.sets import data_path, evaluate_written, load_set

THREAT = "i have ur pics. send 200 on cashapp in 1 hour or i post them to all ur followers"
BENIGN = "practice moved to 5pm tmrw, bring ur water bottle"


@pytest.fixture(scope="module")
def model() -> MessageModel:
    m = load_model()
    assert m is not None, "the shipped model file is missing"
    return m


def test_shipped_model_is_data_with_calibration_and_thresholds(model: MessageModel) -> None:
    doc = json.loads(model_path().read_text("utf-8"))
    assert doc["format"] == "haven-message-model/1"
    assert doc["trained_on"] == [
        "dev_v1.jsonl",
        "heldout_v1.jsonl",
        "heldout_v2.jsonl",
        "heldout_v3.jsonl",
        "heldout_v4.jsonl",
        "heldout_v5.jsonl",
    ]
    assert "heldout_v6" not in json.dumps(doc["trained_on"])
    assert len(model.features) > 1000 and model.idf.shape == (len(model.features),)
    for h in HEADS:
        assert 0.5 <= model.threshold[h] < 1.0
        assert model.platt[h][0] > 0  # calibration keeps the order of the logits
    # The cross-validation the thresholds rest on is recorded with the model.
    pooled = doc["cv"]["pooled"]["model"]
    assert pooled["false_alarms"][1] == 360 and pooled["false_alarms"][0] <= 0.02 * 360
    combined = doc["cv"]["pooled"]["rules+model"]
    assert combined["false_alarms"][0] <= 360 / 24  # round 5: at most 1 per 24 benign, rules OR model


def test_scores_are_deterministic_probabilities(model: MessageModel) -> None:
    a = model.score(THREAT, [], "unknown>minor")
    b = model.score(THREAT, [], "unknown>minor")
    assert a.probabilities == b.probabilities
    assert all(0.0 <= p <= 1.0 for p in a.probabilities.values())
    # A threat and a demand is what the sextortion head was trained on; practice logistics is not.
    assert a.warn["sextortion"] and a.probabilities["sextortion"] > 0.9
    quiet = model.score(BENIGN, [], "adult>minor")
    assert not any(quiet.warn.values())
    assert quiet.probabilities["sextortion"] < a.probabilities["sextortion"]


def test_rebuild_of_the_final_fit_matches_the_shipped_coefficients(model: MessageModel) -> None:
    pytest.importorskip("sklearn")
    from haven.classify.conversation import train

    doc, rebuilt = train.fit(train.load_seen(), train.CONFIG)
    assert rebuilt.features == model.features
    for h in HEADS:
        np.testing.assert_allclose(rebuilt.coef[h], model.coef[h], atol=1e-5)
        assert doc["heads"][h]["intercept"] == pytest.approx(model.intercept[h], abs=1e-5)


def test_the_detector_carries_the_model_warning_with_its_explanation(model: MessageModel) -> None:
    det = Detector(0.5, 0.5, model=model)
    state = ConversationState()
    ctx = MessageContext("unknown", ["13_15"], recipient_ids=["kid"])
    det.update(state, sender="x", text="hey cutie", context=ctx, message_id="1")
    r = det.update(state, sender="x", text=THREAT, context=ctx, message_id="2")
    assert r.model is not None and r.model.warn["sextortion"]
    assert r.sextortion.warn and r.direction == "unknown>minor"
    ev = [f for f in r.fired if f.source == "model" and f.family == "sextortion"]
    assert ev and ev[0].behaviour == "model" and ev[0].evidence.startswith("model ")
    assert "sextortion threat and demand; cues:" in ev[0].evidence
    # The rules' own per-turn explanations stay beside it.
    assert any(f.source == "rules" for f in r.fired)
    # The state keeps the context the model reads, and survives the database round trip.
    again = ConversationState.from_json(json.loads(json.dumps(state.to_json())))
    assert again.recent == state.recent and len(again.recent) == 2
    assert again.model["sextortion"] >= model.threshold["sextortion"]


def test_odd_input_scores_without_error(model: MessageModel) -> None:
    det = Detector(0.5, 0.5, model=model)
    state = ConversationState()
    for text in ("", "   ", "😀😀", "a" * 5000, "ñ" * 40, "\x00\x01"):
        r = det.update(state, sender="a", text=text, context=MessageContext("adult", ["adult"]))
        assert r.model is not None and all(0.0 <= p <= 1.0 for p in r.model.probabilities.values())
    assert model.vector("", [], "adult>adult") == {}  # who writes to whom is left to the rules
    assert char_ngrams("a") == [" a", "a ", " a "]
    assert direction_key("adult", []) == "adult>unknown" and direction_key("13_15", ["adult"]) == "minor>adult"


def test_bad_model_files_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text("{not json", "utf-8")
    with pytest.raises(ModelFileError, match="cannot read"):
        MessageModel.from_path(bad)
    doc = json.loads(model_path().read_text("utf-8"))
    with pytest.raises(ModelFileError, match="format"):
        MessageModel({**doc, "format": "other/2"})
    with pytest.raises(ModelFileError, match="lengths differ"):
        MessageModel({**doc, "idf": doc["idf"][:-1]})
    with pytest.raises(ModelFileError, match="malformed"):
        MessageModel({k: v for k, v in doc.items() if k != "heads"})
    assert load_model(tmp_path / "absent.json") is None  # no file: the rules work alone


def test_rules_plus_model_on_the_dev_set_as_recorded(model: MessageModel) -> None:
    """In-sample (the model is fitted on dev): every risky conversation warned by warn_by and no
    false alarm, as the training script recorded; the rules alone miss one."""
    convs = load_set(data_path("dev_v1.jsonl"))
    both = evaluate_written(Detector(0.5, 0.5, model=model), convs)["all"]
    alone = evaluate_written(Detector(0.5, 0.5), convs)["all"]
    assert both["risky"]["warned_by_warn_by"] == both["risky"]["n"] == 62
    assert both["benign"]["false_alarms"] == 0
    assert alone["risky"]["warned_by_warn_by"] <= both["risky"]["warned_by_warn_by"]


def test_a_dropped_set_file_is_discovered(tmp_path: Path) -> None:
    (tmp_path / "sets.json").write_text(
        json.dumps({"dev": {"file": "dev_v1.jsonl", "seen": True, "note": "dev"}}), "utf-8"
    )
    (tmp_path / "dev_v1.jsonl").write_text("", "utf-8")
    (tmp_path / "heldout_v9.jsonl").write_text("", "utf-8")
    found = run._manifest(tmp_path / "sets.json")
    assert found["heldout_v9"]["file"] == "heldout_v9.jsonl" and found["heldout_v9"]["seen"] is False
    assert found["dev"]["seen"] is True
    # The package's own manifest: v6 unseen, the six training sets seen and trained on.
    assert run.WRITTEN["heldout_v6"]["seen"] is False
    assert [n for n in run.SETS if run.WRITTEN.get(n, {}).get("model_trained_on_it")] == [
        "dev",
        "heldout_v1",
        "heldout_v2",
        "heldout_v3",
        "heldout_v4",
        "heldout_v5",
    ]
    assert "heldout_v6" in run.set_names("unseen") and "heldout_v5" not in run.set_names("unseen")


def _replay(texts: list[tuple[str, str]], bands: dict[str, str], connected: bool) -> dict[str, int | None]:
    from haven.classify.conversation.detector import Detector
    from haven.classify.conversation.model import load_model
    from haven.classify.evaluation.sets import replay

    return replay(Detector(0.5, 0.5, model=load_model()), texts, bands=bands, connected=connected)


def test_the_relationship_the_rules_know_gates_the_model() -> None:
    """Round 5: relatives' and adult friends' jokes in the shape of a threat and a demand stay
    quiet; the same words from a stranger to a child warn at the message."""
    karaoke = [
        ("A", "lmaoo i have the karaoke video from last night"),
        ("B", "NOOO"),
        ("B", "delete it rn"),
        ("A", "pay me $5 or it goes in the group chat 😂"),
    ]
    assert _replay(karaoke, {"A": "adult", "B": "adult"}, True)["sextortion"] is None
    assert _replay(karaoke, {"A": "unknown", "B": "13_15"}, False)["sextortion"] == 4
    mum = [
        ("A", "did u post that pic of me from the beach"),
        ("B", "only on my story lol"),
        ("A", "delete it or no wifi tonight 😂"),
    ]
    assert _replay(mum, {"A": "adult", "B": "13_15"}, True) == {"grooming": None, "sextortion": None}


def test_a_parent_in_copy_keeps_the_model_quiet_without_secrecy() -> None:
    from haven.classify.conversation.detector import ConversationState, model_gate

    state = ConversationState(turns=1, relationship={"parent_aware": True}, minor_or_unknown=True)
    assert model_gate(state, "grooming") == 0.0
    state.contrib["secrecy"] = 0.45
    assert model_gate(state, "grooming") == 1.0  # a parent "knows", yet the adult asks for a secret
    assert model_gate(ConversationState(turns=1, minor_or_unknown=True), "sextortion") == 1.0
    assert model_gate(ConversationState(turns=1, connected=True, minor_or_unknown=True), "sextortion") == 0.0
