"""`haven hash` and `haven scan` (local files through the screening pipeline, with the installed rules),
and `haven policy ...`: check and test rules files, install them, promote shadow rules, show the active set."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from haven.core.cli import (
    CLI_ACTOR,
    clear_errors,
    console,
    database,
    err,
    fail,
    file_error,
    handles_errors,
    print_table,
    settings,
)
from haven.screening.pipeline import screen
from haven.screening.signals import compute_signals

policy_app = typer.Typer(help="Policy rules: check, test, install, shadow rules and promotion.", no_args_is_help=True)


@policy_app.command("check")
@handles_errors
def check(file: Annotated[Path | None, typer.Argument(help="rules file (default: the shipped rules)")] = None) -> None:
    """Validate a rules file: schema, known categories and actions, and the invariants."""
    from haven.policy.rules import RulesError, parse
    from haven.screening.rulesets import default_rules_text

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
    except RulesError as exc:
        fail(str(exc))
        return
    except OSError as exc:
        fail(file_error(exc))
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
    from haven.screening.rulesets import install as do_install

    with database().session() as s:
        row = do_install(s, file.read_text(), actor=CLI_ACTOR)
        console.print(f"rules {row.version} installed as revision {row.revision} and active")


@policy_app.command("promote")
@handles_errors
def promote(rule: str) -> None:
    """Make a shadow rule of the active rules take effect (a new revision)."""
    from haven.screening.rulesets import promote as do_promote

    with database().session() as s:
        row = do_promote(s, rule, actor=CLI_ACTOR)
        console.print(f"rule {rule} promoted: revision {row.revision} is active")


@policy_app.command("show")
@handles_errors
def show() -> None:
    """The active rules, in order, with their mode."""
    from haven.screening.rulesets import active_ruleset, current_row

    with database().session() as s:
        rs = active_ruleset(s)
        row = current_row(s)
    table = Table("rule", "mode", "verdict", "category", "actions")
    for r in rs.rules:
        table.add_row(r.name, r.mode, r.verdict, r.category or "", ",".join(r.actions))
    console.print(f"rules {rs.version} (revision {row.revision if row else 'default'})")
    print_table(table, keep=("rule",))


def hash_command(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per file")] = False,
) -> None:
    """Print the hashes of files: MD5, SHA-1, SHA-256, and PDQ with quality for images."""
    failed = False
    for path in files:
        try:
            row = _hash_file(path)
        except Exception as exc:  # one bad file must not stop the rest
            failed = True
            err.print(f"[red]error:[/red] {path}: {getattr(exc, 'message', exc)}", highlight=False)
            continue
        if as_json:
            print(json.dumps(row))
        else:
            console.print(f"[bold]{path}[/bold]")
            for key in ("md5", "sha1", "sha256", "pdq", "pdq_quality"):
                if row["hashes"].get(key) is not None:
                    console.print(f"  {key:<12}{row['hashes'][key]}", highlight=False)
    if failed:
        raise typer.Exit(2)


def _hash_file(path: Path) -> dict[str, Any]:

    sig = compute_signals(path.read_bytes(), settings())
    hashes: dict[str, Any] = {"md5": sig.md5, "sha1": sig.sha1, "sha256": sig.sha256}
    if sig.image:
        hashes["pdq"] = sig.image.pdq
        hashes["pdq_quality"] = sig.image.quality
    return {"path": str(path), "media_kind": sig.media_kind, "mime": sig.mime, "hashes": hashes}


def _walk(paths: list[Path]) -> Iterator[Path]:
    for p in paths:
        if p.is_dir():
            yield from sorted(x for x in p.rglob("*") if x.is_file())
        else:
            yield p


def scan_command(
    paths: Annotated[list[Path], typer.Argument(exists=True, readable=True, help="files or folders")],
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per file")] = False,
) -> None:
    """Scan files and folders against the banks. Exit 0: nothing matched; 1: something
    matched; 2: errors (unreadable or unsupported files)."""
    from sqlalchemy import select

    from haven.banks.models import Bank
    from haven.banks.runtime import MatcherRuntime
    from haven.core.errors import HavenError
    from haven.screening.rulesets import active_ruleset

    s = settings()
    db = database()
    runtime = MatcherRuntime(db, s)
    with clear_errors():
        runtime.refresh()
    files = list(_walk(paths))
    matched = errors = 0
    rows: list[tuple[str, str, int, str]] = []
    progress = Progress(
        TextColumn("scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=as_json or not err.is_terminal,
    )
    with progress, db.reading() as session:
        rules = active_ruleset(session)  # the installed rules, as the API decides
        bank_names = dict(session.execute(select(Bank.id, Bank.name)).tuples().all()) if as_json else {}
        task = progress.add_task("scan", total=len(files))
        for path in files:
            progress.advance(task)
            try:
                sig = compute_signals(path.read_bytes(), s)
            except (HavenError, OSError) as exc:
                errors += 1
                message = getattr(exc, "message", None) or str(exc)
                if as_json:
                    print(json.dumps({"path": str(path), "error": message}))
                rows.append((str(path), "error", 0, message))
                continue
            img = sig.image
            screening = screen(session, s, runtime.matcher, sig.screening_input(s.pdq_min_quality), rules=rules)
            hits, verdict = screening.hits, screening.decision.verdict
            if verdict.action != "allow":
                matched += 1
            if as_json:
                hashes: dict[str, Any] = {"md5": sig.md5, "sha1": sig.sha1, "sha256": sig.sha256}
                if img:
                    hashes.update(pdq=img.pdq, pdq_quality=img.quality)
                print(
                    json.dumps(
                        {
                            "path": str(path),
                            "hashes": hashes,
                            "matches": [
                                {
                                    "bank_id": h.entry.bank_id,
                                    "bank": bank_names.get(h.entry.bank_id),
                                    "bank_kind": h.entry.bank_kind,
                                    "entry_id": h.entry.entry_id,
                                    "signal_type": h.entry.signal_type,
                                    "distance": h.distance,
                                    "classification": h.entry.classification,
                                    "status": st,
                                }
                                for h, st in hits
                            ],
                            "verdict": {"action": verdict.action, "rule": verdict.rule, "reason": verdict.reason},
                        }
                    )
                )
            rows.append((str(path), verdict.action, len(hits), verdict.rule))
    if not as_json:
        table = Table("file", "verdict", "matches", "rule", title=f"{len(files)} file(s) scanned")
        for path_s, action, n, rule in rows:
            if action != "allow":
                table.add_row(path_s, action, str(n), rule)
        if table.row_count:
            print_table(table, keep=("file",))
        console.print(f"{len(files)} scanned, {matched} matched, {errors} error(s)")
    raise typer.Exit(2 if errors else 1 if matched else 0)
