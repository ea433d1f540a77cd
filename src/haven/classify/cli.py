"""`haven eval`: the conversation detector on each evaluation set, reported separately (the generated
set, the development set, the frozen held-out set when present), and the imagery models' false
alarms on benign pictures."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from haven.core.cli import console, handles_errors, settings


def _fmt(v: Any) -> str:
    return "-" if v is None else str(v)


def _print_written(name: str, r: dict[str, Any]) -> None:
    t = Table(title=f"{name}: {r['file']} ({r['conversations']} conversations)")
    for col in (
        "language",
        "label",
        "n",
        "warned at all",
        "warned by warn_by",
        "lateness (median turns)",
        "sextortion warned at threat+demand",
        "benign false alarms",
        "per 12 benign",
    ):
        t.add_column(col)
    for lang in ("all", *r["languages"]):
        x = r[lang]
        for label in ("risky", "grooming", "sextortion"):
            f = x[label]
            at = f.get("sextortion_warned_at_threat_and_demand")
            t.add_row(
                lang,
                label,
                str(f["n"]),
                f"{f['warned']} ({_fmt(f['recall'])})",
                f"{f['warned_by_warn_by']} ({_fmt(f['fraction_warned_by_warn_by'])})",
                _fmt(f["lateness_median"]),
                "" if at is None else f"{at}/{f['n']}",
                "",
                "",
            )
        b = x["benign"]
        t.add_row(
            lang, "benign", str(b["n"]), "", "", "", "", f"{b['false_alarms']}/{b['n']}", _fmt(b["false_alarms_per_12"])
        )
    console.print(t)
    if r.get("totals_only"):
        console.print("  (not yet seen: totals only; --detail names the misses and false alarms)")
    elif r["false_alarms_by_benign_scene"]:
        console.print(
            "false alarms by benign scene: "
            + ", ".join(f"{k} {v}" for k, v in r["false_alarms_by_benign_scene"].items())
        )
    console.print("targets: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in r["targets_met"].items()))


def _summary(r: dict[str, Any]) -> dict[str, Any]:
    """The headline figures of one written set: risky by warn_by, grooming, sextortion at its
    threat-and-demand message, false alarms (each as [hits, n])."""
    a = r["all"]
    return {
        "risky_by_warn_by": [a["risky"]["warned_by_warn_by"], a["risky"]["n"]],
        "grooming_by_warn_by": [a["grooming"]["warned_by_warn_by"], a["grooming"]["n"]],
        "sextortion_at_threat_and_demand": [
            a["sextortion"].get("sextortion_warned_at_threat_and_demand", 0),
            a["sextortion"]["n"],
        ],
        "false_alarms": [a["benign"]["false_alarms"], a["benign"]["n"]],
    }


def _line(f: dict[str, Any]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {a}/{b}" for k, (a, b) in f.items())


def _print_generated(r: dict[str, Any]) -> None:
    for sp in ("tune", "held_out"):
        if sp not in r:
            continue
        g = r[sp]
        t = Table(title=f"generated, split {sp} ({g['conversations']} conversations)")
        for col in (
            "",
            "precision",
            "recall",
            "1st warning turn (median / p90)",
            "turns after 1st risky msg",
            "benign false alarms",
        ):
            t.add_column(col)
        a = g["any_risk"]
        t.add_row("any risk", _fmt(a["precision"]), _fmt(a["recall"]), "", "", _fmt(a["false_alarm_rate_benign"]))
        for fam in ("grooming", "sextortion"):
            f = g[fam]
            t.add_row(
                fam,
                _fmt(f["precision"]),
                _fmt(f["recall"]),
                f"{f['first_warning_turn_median']} / {f['first_warning_turn_p90']}",
                _fmt(f["turns_after_first_risky_message_median"]),
                str(f["benign_false_alarms"]),
            )
        console.print(t)


@handles_errors
def eval_command(
    set_: Annotated[
        str,
        typer.Option(
            "--set",
            help="generated, dev, heldout_v1 ... heldout_vN (every file in classify/evaluation/data, listed in "
            "its sets.json), heldout (every held-out file), unseen (every set not yet read or trained on) or all "
            "(each reported separately)",
        ),
    ] = "all",
    split: Annotated[str, typer.Option(help="for the generated set: tune, held_out or all")] = "all",
    semantic: Annotated[bool, typer.Option(help="add the semantic detector (needs the `semantic` extra)")] = False,
    model: Annotated[bool, typer.Option(help="add the trained message model (reported beside the rules alone)")] = True,
    images: Annotated[bool, typer.Option(help="also measure the imagery models on benign pictures")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="print the figures as JSON")] = False,
    detail: Annotated[
        bool,
        typer.Option(
            help="also print, for sets not yet seen, which conversations were missed and which benign scenes "
            "alarmed (reading them makes the set seen: mark it so in sets.json)"
        ),
    ] = False,
) -> None:
    """Run the conversation detector over each evaluation set and print the figures, set by set.

    Sets not yet seen print their totals only, unless `--detail`."""
    from haven.classify.conversation.detector import Detector
    from haven.classify.evaluation.run import (
        ALIASES,
        SET_NOTES,
        SETS,
        WRITTEN,
        evaluate_images,
        evaluate_sets,
        set_names,
    )
    from haven.classify.evaluation.sets import totals_only
    from haven.core.errors import Invalid

    if set_ not in (*SETS, *ALIASES, "all"):
        raise Invalid(f"--set is one of {', '.join((*SETS, *ALIASES, 'all'))}")
    if split not in ("tune", "held_out", "all"):
        raise Invalid("--split is tune, held_out or all")
    s = settings()
    sem = None
    if semantic:
        from haven.classify.conversation.semantic import load_semantic

        sem = load_semantic()
        if sem is None:
            raise Invalid(
                "the semantic detector is not installed: pip install torch==2.13.0 && pip install -e '.[semantic]'"
            )
    msg_model = None
    if model:
        from haven.classify.conversation.model import load_model

        msg_model = load_model()
        if msg_model is None:
            raise Invalid("the trained message model file is missing: python -m haven.classify.conversation.train")
    det = Detector(s.grooming_warn_threshold, s.sextortion_warn_threshold, sem, msg_model)
    sets = set_names(set_)
    splits = ("tune", "held_out") if split == "all" else (split,)
    result: dict[str, Any] = evaluate_sets(det, sets, splits=splits)
    if msg_model is not None:
        # The same sets with the rules alone, so the model's part is read off beside them.
        alone = Detector(s.grooming_warn_threshold, s.sextortion_warn_threshold, sem)
        for name, r in evaluate_sets(alone, tuple(n for n in sets if n != "generated"), splits=splits).items():
            if "skipped" not in r:
                result[name]["without_model"] = _summary(r)
    if images:
        result["images"] = evaluate_images()
    if not detail:
        for name in sets:
            if name in WRITTEN and not WRITTEN[name].get("seen", False) and "skipped" not in result[name]:
                result[name] = totals_only(result[name])
                result[name]["totals_only"] = True
    result["detector"] = {
        "grooming_threshold": det.grooming_threshold,
        "sextortion_threshold": det.sextortion_threshold,
        "semantic": sem is not None,
        "model": None if msg_model is None else msg_model.version,
        "model_thresholds": None if msg_model is None else msg_model.threshold,
    }
    if as_json:
        print(json.dumps(result))
        return
    for name in sets:
        r = result[name]
        note = SET_NOTES[name]
        console.print(f"[bold]{name}[/bold]: {note}" if not note.startswith(name) else f"[bold]{note}[/bold]")
        if "skipped" in r:
            console.print(f"  skipped: {r['skipped']}")
        elif name == "generated":
            _print_generated(r)
        else:
            _print_written(name, r)
            if "without_model" in r:
                label = "rules" + ("+semantic" if sem is not None else "")
                console.print(f"{label} alone: {_line(r['without_model'])}")
                console.print(f"{label}+model: {_line(_summary(r))}")
                if r.get("model_trained_on_it"):
                    console.print("  (the model was trained on this set: its figures here are in-sample)")
    if images:
        im = result["images"]
        console.print(
            f"images: {im['benign_images']} benign; explicit false-alarm rate {im['explicit_false_alarm_rate']}, "
            f"apparent-minor false-alarm rate {im['apparent_minor_false_alarm_rate']}; recall: n/a ({im['note']})"
        )
