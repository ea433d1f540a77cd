"""Conversation sets written by people, as JSON Lines (one conversation per line), and the figures
`haven eval` reports on them.

Format (written for whoever writes a set; see docs/classifiers.md, "Evaluation"):

    {"id": "dev-0001", "language": "en"|"es"|"pt", "label": "grooming"|"sextortion"|"benign",
     "scene": "...", "behaviours": [...], "bands": {"A": "adult", "B": "13_15"},
     "connected": false, "warn_by": 7 | null,
     "messages": [{"sender": "A", "text": "..."}, ...]}

`warn_by` is the 1-based message by which a careful moderator would have warned (for
sextortion: the first message holding both a threat to share and a demand).

The sets shipped in `data/`: `dev_v1.jsonl`, the development set (written by a teammate who had
not seen the detector; the lexicons were tuned while looking at it, so its figures are optimistic);
`heldout_v1.jsonl`, written by someone who never saw the detector and frozen, whose failures were then
read during round 2 of tuning (so it is no longer held out); `heldout_v2.jsonl`, written after
round 2 and read during round 3 (likewise no longer held out); `heldout_v3.jsonl`, the fresh frozen
set written during round 3 (sha256 b23cfabc…), which nobody working on the detector has read.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from haven.classify.conversation.detector import ConversationState, Detector, MessageContext, TurnResult

LABELS = ("grooming", "sextortion", "benign")
BANDS = ("adult", "16_17", "13_15", "under_13", "unknown")


@dataclass
class WrittenMessage:
    sender: str
    text: str


@dataclass
class WrittenConversation:
    id: str
    language: str
    label: str
    scene: str
    bands: dict[str, str]
    connected: bool
    warn_by: int | None
    behaviours: list[str] = field(default_factory=list)
    messages: list[WrittenMessage] = field(default_factory=list)


def parse_line(line: str, where: str = "") -> WrittenConversation:
    """One conversation from one JSON line; ValueError names what is wrong."""
    d = json.loads(line)
    label = d.get("label")
    if label not in LABELS:
        raise ValueError(f"{where}: label {label!r} is not one of {LABELS}")
    msgs = [WrittenMessage(str(m["sender"]), str(m["text"])) for m in d.get("messages") or []]
    if not msgs:
        raise ValueError(f"{where}: no messages")
    bands = {str(k): str(v) for k, v in (d.get("bands") or {}).items()}
    for m in msgs:
        if bands.get(m.sender, "unknown") not in BANDS:
            raise ValueError(f"{where}: band {bands.get(m.sender)!r} of {m.sender} is not one of {BANDS}")
    warn_by = d.get("warn_by")
    if label == "benign":
        warn_by = None
    elif not isinstance(warn_by, int) or not 1 <= warn_by <= len(msgs):
        raise ValueError(f"{where}: warn_by {warn_by!r} is not a message index")
    return WrittenConversation(
        id=str(d.get("id", where)),
        language=str(d.get("language", "unknown")),
        label=label,
        scene=str(d.get("scene", "")),
        bands=bands,
        connected=bool(d.get("connected", False)),
        warn_by=warn_by,
        behaviours=[str(b) for b in d.get("behaviours") or []],
        messages=msgs,
    )


def load_set(path: Path) -> list[WrittenConversation]:
    """Every conversation of a JSON Lines file (blank lines skipped)."""
    out = []
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if line.strip():
                out.append(parse_line(line, f"{path.name}:{i}"))
    return out


def data_path(name: str) -> Path:
    """A file in the package's `evaluation/data/` folder (it may not exist)."""
    return Path(str(resources.files("haven.classify.evaluation").joinpath("data", name)))


def replay(
    det: Detector,
    messages: list[tuple[str, str]],
    *,
    bands: dict[str, str],
    connected: bool,
    participants: list[str] | None = None,
    trace: list[tuple[TurnResult, list[str]]] | None = None,
) -> dict[str, int | None]:
    """Feed (sender, text) messages to the detector with the context a service would send (age
    bands, connections, first contact of each side) and return the first turn at which each family
    warned (None when it never did). Every evaluation set is replayed through this one function.
    `trace`, when given, receives each message's result and the context the model read (the
    earlier messages, normalised): the training script builds its examples from it."""
    state = ConversationState()
    first: dict[str, int | None] = {"grooming": None, "sextortion": None}
    people = participants or list(dict.fromkeys(sender for sender, _ in messages))
    seen: set[str] = set()
    for i, (sender, text) in enumerate(messages, 1):
        others = [p for p in people if p != sender] or ["unknown"]
        ctx = MessageContext(
            sender_band=bands.get(sender, "unknown"),
            recipient_bands=[bands.get(p, "unknown") for p in others],
            recipient_ids=others,
            first_contact=sender not in seen and not connected,
            connected=connected,
        )
        seen.add(sender)
        before = list(state.recent)
        r = det.update(state, sender=sender, text=text, context=ctx, message_id=str(i))
        if trace is not None:
            trace.append((r, before))
        for fam, res in (("grooming", r.grooming), ("sextortion", r.sextortion)):
            if res.warn and first[fam] is None:
                first[fam] = i
    return first


def run_written(det: Detector, conv: WrittenConversation) -> dict[str, int | None]:
    """First turn at which each family warned (None when it never did), and `any`."""
    first = replay(det, [(m.sender, m.text) for m in conv.messages], bands=conv.bands, connected=conv.connected)
    warned = [t for t in first.values() if t is not None]
    return {**first, "any": min(warned) if warned else None}


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


def _risky_figures(rows: list[tuple[WrittenConversation, dict[str, int | None]]], family: str | None) -> dict[str, Any]:
    n = len(rows)
    key = "any"
    warned = [(c, f[key]) for c, f in rows if f[key] is not None]
    by = [c for c, t in warned if c.warn_by is not None and t is not None and t <= c.warn_by]
    late = [t - (c.warn_by or 0) for c, t in warned if t is not None]
    out: dict[str, Any] = {
        "n": n,
        "warned": len(warned),
        "recall": _ratio(len(warned), n),
        "warned_by_warn_by": len(by),
        "fraction_warned_by_warn_by": _ratio(len(by), n),
        "lateness_median": statistics.median(late) if late else None,
        "first_warning_vs_warn_by": [{"id": c.id, "warn_by": c.warn_by, "first_warning": f["any"]} for c, f in rows],
    }
    if family == "sextortion":
        at = [c for c, f in rows if (t := f["sextortion"]) is not None and c.warn_by is not None and t <= c.warn_by]
        out["sextortion_warned_at_threat_and_demand"] = len(at)
        out["fraction_sextortion_warned_at_threat_and_demand"] = _ratio(len(at), n)
    return out


def _benign_figures(rows: list[tuple[WrittenConversation, dict[str, int | None]]]) -> dict[str, Any]:
    alarms = [c for c, f in rows if f["any"] is not None]
    n = len(rows)
    return {
        "n": n,
        "false_alarms": len(alarms),
        "false_alarm_rate": _ratio(len(alarms), n),
        "false_alarms_per_12": round(12 * len(alarms) / n, 2) if n else None,
        "alarmed": [{"id": c.id, "scene": c.scene, "turn": f["any"]} for c, f in rows if f["any"] is not None],
    }


def evaluate_written(det: Detector, convs: list[WrittenConversation]) -> dict[str, Any]:
    """The figures for one written set: per label, per language, overall."""
    rows = [(c, run_written(det, c)) for c in convs]
    langs = sorted({c.language for c in convs})

    def pick(label: str | None, lang: str | None) -> list[tuple[WrittenConversation, dict[str, int | None]]]:
        return [
            (c, f)
            for c, f in rows
            if ((label is None and c.label != "benign") or c.label == label) and (lang is None or c.language == lang)
        ]

    out: dict[str, Any] = {"conversations": len(convs), "languages": langs}
    for lang in (None, *langs):
        key = lang or "all"
        out[key] = {
            "risky": _risky_figures(pick(None, lang), None),
            "grooming": _risky_figures(pick("grooming", lang), "grooming"),
            "sextortion": _risky_figures(pick("sextortion", lang), "sextortion"),
            "benign": _benign_figures(pick("benign", lang)),
        }
    by_scene: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c, f in pick("benign", None):
        by_scene[c.scene][0] += int(f["any"] is not None)
        by_scene[c.scene][1] += 1
    out["false_alarms_by_benign_scene"] = {k: f"{a}/{b}" for k, (a, b) in sorted(by_scene.items()) if a}
    return out


#: The parts of a written set's figures that name conversations or scenes (which ones were
#: missed, which benign scenes alarmed): what tuning reads. `totals_only` drops them.
DETAIL_KEYS = frozenset({"first_warning_vs_warn_by", "alarmed", "false_alarms_by_benign_scene"})


def totals_only(figures: Any) -> Any:
    """The figures without the conversation ids and scene names of their misses and false alarms.

    Why: an unseen set stays unseen only while nobody reads which of its conversations failed. A
    round of tuning once read the false-alarm scenes `haven eval` printed for a fresh held-out set
    (heldout_v6), and the set no longer measured anything; counts alone do not leak that way."""
    if isinstance(figures, dict):
        return {k: totals_only(v) for k, v in figures.items() if k not in DETAIL_KEYS}
    return figures


def targets_met(figures: dict[str, Any]) -> dict[str, bool]:
    """Issue 10's targets on one set's figures."""
    a = figures["all"]
    s = a["sextortion"]
    return {
        "risky_warned_by_warn_by_at_least_80pct": (a["risky"]["fraction_warned_by_warn_by"] or 0) >= 0.8,
        "every_sextortion_at_threat_and_demand": s["n"] == 0 or s["sextortion_warned_at_threat_and_demand"] == s["n"],
        "at_most_1_false_alarm_per_12_benign": (a["benign"]["false_alarms_per_12"] or 0) <= 1,
    }
