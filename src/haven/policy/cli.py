"""`haven policy ...` (rules: check, test, install, promote, show) and `haven terms ...`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from haven.core.cli import CLI_ACTOR, console, database, fail, handles_errors

policy_app = typer.Typer(help="Policy rules: check, test, install, shadow rules and promotion.", no_args_is_help=True)
terms_app = typer.Typer(help="Terms of service versions.", no_args_is_help=True)


@policy_app.command("check")
@handles_errors
def check(file: Annotated[Path | None, typer.Argument(help="rules file (default: the shipped rules)")] = None) -> None:
    """Validate a rules file: schema, known categories and actions, and the invariants."""
    from haven.policy.rules import RulesError, parse
    from haven.policy.store import default_rules_text

    text = file.read_text() if file else default_rules_text()
    try:
        rs = parse(text)
    except RulesError as exc:
        for p in exc.problems[1:]:
            console.print(f"  {p}", highlight=False)
        fail(f"{file or 'default rules'}: {len(exc.problems)} problem(s): {exc.problems[0]}")
        return
    shadow = [r.name for r in rs.rules if r.mode == "shadow"]
    console.print(
        f"{file or 'default rules'}: version {rs.version} for terms {rs.terms_version}: "
        f"{len(rs.rules)} rules ok" + (f" ({len(shadow)} in shadow mode: {', '.join(shadow)})" if shadow else ""),
        highlight=False,
    )


@policy_app.command("test")
@handles_errors
def test(file: Annotated[Path, typer.Argument(help="examples file: rules: <path>, cases: [...]")]) -> None:
    """Run example cases against their rules and compare the verdicts with the expected ones."""
    from haven.policy.examples import load, run
    from haven.policy.rules import RulesError

    try:
        rs, cases = load(file)
    except (RulesError, OSError) as exc:
        fail(str(exc))
        return
    results = run(rs, cases)
    failed = [r for r in results if not r.ok]
    for r in results:
        mark = "[green]pass[/green]" if r.ok else "[red]FAIL[/red]"
        console.print(f"{mark} {r.name}" + ("" if r.ok else f": expected {r.expected}, got {r.got}"), highlight=False)
    console.print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(1)


@policy_app.command("install")
@handles_errors
def install(file: Path) -> None:
    """Install a rules file as the active version (shadow rules stay in shadow mode)."""
    from haven.policy.store import install as do_install

    with database().session() as s:
        row = do_install(s, file.read_text(), actor=CLI_ACTOR)
        console.print(f"rules {row.version} installed as revision {row.revision} and active")


@policy_app.command("promote")
@handles_errors
def promote(rule: str) -> None:
    """Make a shadow rule of the active rules take effect (a new revision)."""
    from haven.policy.store import promote as do_promote

    with database().session() as s:
        row = do_promote(s, rule, actor=CLI_ACTOR)
        console.print(f"rule {rule} promoted: revision {row.revision} is active")


@policy_app.command("show")
@handles_errors
def show() -> None:
    """The active rules, in order, with their mode."""
    from haven.policy.store import active_ruleset, current_row

    with database().session() as s:
        rs = active_ruleset(s)
        row = current_row(s)
    table = Table("rule", "mode", "verdict", "category", "actions")
    for r in rs.rules:
        table.add_row(r.name, r.mode, r.verdict, r.category or "", ",".join(r.actions))
    console.print(f"rules {rs.version} (revision {row.revision if row else 'default'})")
    console.print(table)


@terms_app.command("publish")
@handles_errors
def publish(
    file: Path,
    version: Annotated[str, typer.Option(help="version label, e.g. 2")],
    effective: Annotated[str, typer.Option(help="ISO 8601 time with zone when it takes effect")],
    title: Annotated[str, typer.Option()] = "Terms of service",
    summary: Annotated[str, typer.Option(help="what changed, for the users' notification")] = "",
) -> None:
    """Publish a terms version; the service is told through the tos.updated webhook."""
    from haven.policy import terms

    try:
        at = datetime.fromisoformat(effective)
    except ValueError:
        fail(f"--effective: not an ISO 8601 time: {effective}")
        return
    with database().session() as s:
        terms.ensure_default(s)
        row = terms.publish(
            s,
            version=version,
            markdown=file.read_text(),
            effective_at=at,
            title=title,
            summary=summary,
            actor=CLI_ACTOR,
        )
        console.print(f"terms {row.version} published, in effect from {row.effective_at.isoformat()}")
