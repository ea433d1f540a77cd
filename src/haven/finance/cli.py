"""`haven finance backtest RULES --since 30d`, `haven finance check RULES` and `haven finance sar ACCOUNT`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from haven.core.cli import CLI_ACTOR, console, database, fail, handles_errors

finance_app = typer.Typer(help="Financial screening: rules, backtests, SAR/STR packages.", no_args_is_help=True)


def _load(path: Path):  # type: ignore[no-untyped-def]
    from haven.finance.rules import load
    from haven.finance.settings import get_finance_settings
    from haven.policy.rules import RulesError

    try:
        text = path.read_text()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    try:
        return load(text, get_finance_settings().windows)
    except (RulesError, ValueError) as exc:
        fail(f"{path}: {exc}")


@finance_app.command("check")
@handles_errors
def check_cmd(rules: Path) -> None:
    """Check a financial rules file (the policy checks and the windows finance keeps)."""
    fr = _load(rules)
    shadow = [r.name for r in fr.ruleset.rules if r.mode == "shadow"]
    console.print(f"{rules}: {len(fr.ruleset.rules)} rules, {len(shadow)} in shadow ({', '.join(shadow) or 'none'})")


@finance_app.command("prune")
@handles_errors
def prune_cmd() -> None:
    """Delete expired aggregate buckets now (what the hourly `finance.prune` job does)."""
    from haven.finance.jobs import prune

    res = prune(database())
    console.print(f"{res.deleted} bucket rows deleted{'' if res.complete else ' (more left: run again)'}")


@finance_app.command("backtest")
@handles_errors
def backtest_cmd(
    rules: Path,
    since: Annotated[str, typer.Option(help="how far back to replay: 30d, 12h, 90m")] = "30d",
) -> None:
    """Replay stored transactions through RULES and print what would have changed."""
    from haven.core.clock import now
    from haven.finance.aggregates import window_seconds
    from haven.finance.backtest import backtest
    from haven.finance.lists import lists

    fr = _load(rules)
    try:
        seconds = window_seconds(since)
    except ValueError as exc:
        fail(str(exc))
    with database().session() as s:
        res = backtest(s, fr, lists(), since=now() - timedelta(seconds=seconds))
        from haven.core.ledger import audit

        audit(s, actor=CLI_ACTOR, action="finance.backtest", object_type="rules", object_id=str(rules)[:64])
    console.print(f"replayed {res.replayed} transactions since {since} with {rules} ({fr.ruleset.version})")
    changed = sum(res.changed.values())
    console.print(f"outcome changed for {changed}")
    for (was, now_), n in sorted(res.changed.items()):
        console.print(f"  {was} -> {now_}: {n}")
    console.print("deciding rules:")
    for rule, n in res.by_rule.most_common():
        console.print(f"  {rule}: {n}")
    for rule, n in res.shadow.most_common():
        console.print(f"shadow {rule}: matched {n}, would decide {res.shadow_would_decide[rule]}")
    for ex in res.examples:
        console.print(f"  e.g. {ex['external_id']}: {ex['was']} ({ex['was_rule']}) -> {ex['now']} ({ex['now_rule']})")


@finance_app.command("sar")
@handles_errors
def sar_cmd(
    account: str,
    out: Annotated[Path, typer.Option(help="an empty or new directory for the package")],
    regime: Annotated[str, typer.Option(help="fincen, fintrac or austrac")] = "fincen",
) -> None:
    """Export the SAR/STR support package of a confirmed case (CSV, JSON, HTML and a manifest)."""
    from haven.finance.sar import build

    with database().session() as s:
        manifest = build(s, account, regime=regime, actor=CLI_ACTOR, out_dir=out)
    console.print(f"wrote {', '.join(manifest['files'])} to {out}: {manifest['transactions']} transactions")
