"""Runs the detectors over the labelled sets and computes precision, recall, the turn of first
warning and the false-alarm rate on benign conversations; also the image false-alarm rate on
benign pictures (no explicit positives exist here: image recall cannot be measured)."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from haven.classify.base import Content
from haven.classify.conversation.detector import Detector
from haven.classify.evaluation.dataset import LabelledConversation, generate
from haven.classify.evaluation.sets import data_path, evaluate_written, load_set, replay, targets_met
from haven.classify.local import ApparentAge, OpenNsfw
from haven.core.settings import Settings
from haven.policy import decide_matches
from haven.signals.stand_ins import synthetic_picture


def run_conversation(det: Detector, conv: LabelledConversation) -> dict[str, int | None]:
    """First turn at which each family warned (None when it never did)."""
    messages = [(m.sender, m.text) for m in conv.messages]
    return replay(det, messages, bands=conv.bands, connected=conv.connected, participants=["a", "b"])


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


def evaluate(det: Detector, convs: list[LabelledConversation]) -> dict[str, Any]:
    rows = [(c, run_conversation(det, c)) for c in convs]
    out: dict[str, Any] = {"conversations": len(convs)}
    pos = [(c, f) for c, f in rows if c.label != "benign"]
    neg = [(c, f) for c, f in rows if c.label == "benign"]
    flagged = lambda f: f["grooming"] is not None or f["sextortion"] is not None  # noqa: E731
    tp = sum(1 for _, f in pos if flagged(f))
    fp = sum(1 for _, f in neg if flagged(f))
    out["any_risk"] = {
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, len(pos)),
        "false_alarm_rate_benign": _ratio(fp, len(neg)),
        "positives": len(pos),
        "benign": len(neg),
    }
    for fam in ("grooming", "sextortion"):
        mine = [(c, f) for c, f in rows if c.label == fam]
        hit = [(c, f) for c, f in mine if f[fam] is not None]
        false = sum(1 for c, f in rows if c.label == "benign" and f[fam] is not None)
        firsts: list[tuple[int, int, int]] = [
            (t, c.first_risky_turn or 0, len(c.messages)) for c, f in hit if (t := f[fam]) is not None
        ]
        turns = [t for t, _, _ in firsts]
        after = [t - r for t, r, _ in firsts]
        out[fam] = {
            "n": len(mine),
            "recall": _ratio(len(hit), len(mine)),
            "precision": _ratio(len(hit), len(hit) + false),
            "first_warning_turn_median": statistics.median(turns) if turns else None,
            "first_warning_turn_p90": sorted(turns)[int(0.9 * (len(turns) - 1))] if turns else None,
            "turns_after_first_risky_message_median": statistics.median(after) if after else None,
            "warned_before_last_quarter": _ratio(sum(1 for t, _, n in firsts if t <= 0.75 * n), len(turns)),
            "benign_false_alarms": false,
        }
    by_scene: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c, f in neg:
        by_scene[c.scene][0] += int(flagged(f))
        by_scene[c.scene][1] += 1
    out["false_alarm_rate_by_scene"] = {k: _ratio(a, b) for k, (a, b) in sorted(by_scene.items())}
    return out


def evaluate_images() -> dict[str, Any]:
    """False alarms of the imagery models on benign pictures (scikit-image samples + generated)."""
    import numpy as np

    pics: list[tuple[str, Any]] = []
    try:
        from skimage import data as skdata

        for name in (
            "astronaut",
            "camera",
            "coffee",
            "chelsea",
            "rocket",
            "hubble_deep_field",
            "coins",
            "brick",
            "horse",
            "retina",
        ):
            arr = getattr(skdata, name)()
            if arr.ndim == 2:
                arr = np.stack([arr] * 3, axis=-1)
            pics.append((name, arr.astype(np.uint8)))
    except ImportError:
        pass

    pics += [(f"synthetic-{i}", np.asarray(synthetic_picture(i).convert("RGB"))) for i in range(20)]
    s = Settings()
    nsfw, age = OpenNsfw(), ApparentAge()
    over = 0
    minor_flags = 0
    worst = ("", 0.0)
    for name, rgb in pics:
        score = nsfw.classify(Content.of_image(rgb)).scores["nsfw"]
        # What policy would do with this score alone (the thresholds live in the rules file).
        over += int(decide_matches([], scores={"opennsfw": {"scores": {"nsfw": score}}}).action != "allow")
        if score > worst[1]:
            worst = (name, score)
        minor_flags += int(age.classify(Content.of_image(rgb)).scores["minor"] >= s.apparent_minor_threshold)
    return {
        "benign_images": len(pics),
        "explicit_false_alarm_rate": _ratio(over, len(pics)),
        "apparent_minor_false_alarm_rate": _ratio(minor_flags, len(pics)),
        "highest_benign_explicit_score": {"image": worst[0], "score": round(worst[1], 3)},
        "recall": None,
        "note": "no explicit or child imagery exists here: image recall and calibration cannot be measured",
    }


def evaluate_all(
    det: Detector, *, splits: tuple[str, ...] = ("tune", "held_out"), images: bool = True
) -> dict[str, Any]:
    result: dict[str, Any] = {s: evaluate(det, generate(s)) for s in splits}
    if images:
        result["images"] = evaluate_images()
    return result


#: The written sets and what each one is, from `data/sets.json` (the manifest). A file
#: `data/<name>.jsonl` that the manifest does not list is reported too, as unseen, so a new
#: held-out set needs no code: drop `heldout_v5.jsonl` into the folder (and, better, add its line
#: to the manifest with who wrote it and when it was frozen).
MANIFEST = "sets.json"


def _manifest(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """The manifest's sets, plus every `*.jsonl` beside it that it does not list (as unseen)."""
    path = path or data_path(MANIFEST)
    entries: dict[str, dict[str, Any]] = json.loads(path.read_text("utf-8")) if path.exists() else {}
    folder = path.parent
    listed = {str(e.get("file")) for e in entries.values()}
    for f in sorted(folder.glob("*.jsonl")) if folder.exists() else []:
        if f.name not in listed:
            entries[f.stem] = {
                "file": f.name,
                "seen": False,
                "note": f"{f.stem}: not in {MANIFEST}; reported as unseen (add its line to the manifest)",
            }
    return entries


WRITTEN: dict[str, dict[str, Any]] = _manifest()
WRITTEN_FILES = {name: str(e["file"]) for name, e in WRITTEN.items()}


def _order(name: str) -> tuple[int, str]:
    """dev first, then the held-out sets by number (heldout_v10 after heldout_v9)."""
    digits = "".join(ch for ch in name if ch.isdigit())
    return (0 if name == "dev" else 1, f"{int(digits):06d}" if digits else name)


#: The sets `haven eval` reports, each separately, in this order.
SETS = ("generated", *sorted(WRITTEN, key=_order))
#: Names `--set` accepts besides SETS: "heldout" is every held-out file, "unseen" every set not yet
#: read while tuning (the rules) or training (the model).
ALIASES = {
    "heldout": tuple(n for n in SETS if n.startswith("heldout")),
    "unseen": tuple(n for n in SETS if n in WRITTEN and not WRITTEN[n].get("seen", False)),
}
SET_NOTES = {
    "generated": (
        "generated from the same phrase lists the lexicons were written from: it measures memory, not detection"
    ),
    **{name: str(e.get("note", name)) for name, e in WRITTEN.items()},
}


def set_names(name: str) -> tuple[str, ...]:
    """The sets one `--set` value stands for ("all", an alias, or one set)."""
    if name == "all":
        return SETS
    if name in ALIASES:
        return ALIASES[name]
    if name in SETS:
        return (name,)
    raise ValueError(f"unknown evaluation set {name!r}")


def evaluate_sets(
    det: Detector, sets: tuple[str, ...] = SETS, *, splits: tuple[str, ...] = ("tune", "held_out")
) -> dict[str, Any]:
    """Figures for each named set; a written set whose file is absent is reported as skipped."""

    out: dict[str, Any] = {}
    for name in sets:
        if name == "generated":
            out[name] = {"note": SET_NOTES[name], **{sp: evaluate(det, generate(sp)) for sp in splits}}
            continue
        path = data_path(WRITTEN_FILES[name])
        if not path.exists():
            out[name] = {"skipped": f"{path.name} is not there", "note": SET_NOTES[name]}
            continue
        figures = evaluate_written(det, load_set(path))
        out[name] = {
            "note": SET_NOTES[name],
            "file": path.name,
            "seen": bool(WRITTEN.get(name, {}).get("seen", False)),
            "model_trained_on_it": bool(WRITTEN.get(name, {}).get("model_trained_on_it", False)),
            **figures,
            "targets_met": targets_met(figures),
        }
    return out
