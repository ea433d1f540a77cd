"""`haven eval`: precision, recall, turn of first warning and false alarms on the labelled set."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from haven.core.cli import console, handles_errors, settings


@handles_errors
def eval_command(
    split: Annotated[str, typer.Option(help="tune, held_out or all")] = "all",
    semantic: Annotated[bool, typer.Option(help="add the semantic detector (needs the `semantic` extra)")] = False,
    images: Annotated[bool, typer.Option(help="also measure the imagery models on benign pictures")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="print the figures as JSON")] = False,
) -> None:
    """Run the detectors over Haven's synthetic, non-graphic labelled set and print the figures."""
    from haven.classify.conversation.detector import Detector
    from haven.classify.evaluation.run import evaluate_all
    from haven.core.errors import Invalid

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
    det = Detector(s.grooming_warn_threshold, s.sextortion_warn_threshold, sem)
    splits = ("tune", "held_out") if split == "all" else (split,)
    result = evaluate_all(det, splits=splits, images=images)
    result["detector"] = {
        "grooming_threshold": det.grooming_threshold,
        "sextortion_threshold": det.sextortion_threshold,
        "semantic": sem is not None,
    }
    if as_json:
        print(json.dumps(result))
        return
    for sp in splits:
        r = result[sp]
        t = Table(title=f"{sp} ({r['conversations']} conversations)")
        for col in (
            "",
            "precision",
            "recall",
            "1st warning turn (median / p90)",
            "turns after 1st risky msg",
            "benign false alarms",
        ):
            t.add_column(col)
        a = r["any_risk"]
        t.add_row("any risk", str(a["precision"]), str(a["recall"]), "", "", str(a["false_alarm_rate_benign"]))
        for fam in ("grooming", "sextortion"):
            f = r[fam]
            t.add_row(
                fam,
                str(f["precision"]),
                str(f["recall"]),
                f"{f['first_warning_turn_median']} / {f['first_warning_turn_p90']}",
                str(f["turns_after_first_risky_message_median"]),
                str(f["benign_false_alarms"]),
            )
        console.print(t)
        console.print(
            "false-alarm rate by benign scene: "
            + ", ".join(f"{k} {v}" for k, v in r["false_alarm_rate_by_scene"].items())
        )
    if images:
        im = result["images"]
        console.print(
            f"images: {im['benign_images']} benign; explicit false-alarm rate {im['explicit_false_alarm_rate']}, "
            f"apparent-minor false-alarm rate {im['apparent_minor_false_alarm_rate']}; recall: n/a ({im['note']})"
        )
