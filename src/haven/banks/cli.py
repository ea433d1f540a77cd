"""`haven bank ...`: create, list, import, export, add and snapshot hash banks."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from haven.core.cli import CLI_ACTOR, console, database, err, fail, handles_errors, print_table, settings

bank_app = typer.Typer(help="Hash banks: lists of known material, allowlists, confirmed cases.", no_args_is_help=True)


@bank_app.command("create")
@handles_errors
def bank_create(
    name: str,
    kind: Annotated[str, typer.Option(help="known_csam, known_exploitation, ncii, local_confirmed or allowlist")],
    description: Annotated[str, typer.Option()] = "",
    classification: Annotated[str | None, typer.Option(help="default classification, e.g. A1")] = None,
    threshold: Annotated[int, typer.Option(help="PDQ distance threshold")] = 31,
    robustness: Annotated[
        str, typer.Option(help="variants banked for files Haven hashes itself: off, standard or strong")
    ] = "strong",
) -> None:
    """Create a bank."""
    from haven.banks.service import create_bank

    with database().session() as s:
        bank = create_bank(
            s,
            name=name,
            kind=kind,
            actor=CLI_ACTOR,
            description=description,
            default_classification=classification,
            pdq_threshold=threshold,
            robustness=robustness,
        )
        console.print(f"bank [bold]{bank.name}[/bold] created ({bank.id}), robustness {bank.robustness}")


@bank_app.command("list")
@handles_errors
def bank_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List banks with their entry counts."""
    from haven.banks.service import list_banks

    with database().session() as s:
        rows: list[dict[str, Any]] = [
            {
                "id": b.id,
                "name": b.name,
                "kind": b.kind,
                "threshold": b.pdq_threshold,
                "enabled": b.enabled,
                "entries": n,
                "classification": b.default_classification,
            }
            for b, n in list_banks(s)
        ]
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("name", "kind", "entries", "pdq threshold", "classification", "enabled")
    for r in rows:
        table.add_row(
            r["name"],
            r["kind"],
            str(r["entries"]),
            str(r["threshold"]),
            r["classification"] or "",
            "yes" if r["enabled"] else "no",
        )
    print_table(table, keep=("name",))


@bank_app.command("snapshot")
@handles_errors
def bank_snapshot() -> None:
    """Write the match index snapshot (var/index/matcher.npz): API processes then start from it and
    read only the bank changes made after it, instead of every entry."""
    from haven.banks.runtime import MatcherRuntime

    db = database()
    runtime = MatcherRuntime(db, settings(), snapshot_after=None)
    path = runtime.write_snapshot()
    stats = runtime.matcher.stats()
    console.print(f"snapshot of {stats['entries']} entries (change {stats['seq']}) written to {path}", highlight=False)


@bank_app.command("import")
@handles_errors
def bank_import(
    name: str,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    fmt: Annotated[str | None, typer.Option("--format", help="csv or jsonl (default: from the file name)")] = None,
) -> None:
    """Import entries from CSV (signal_type,value,classification,source_ref) or JSON lines."""
    from haven.banks.formats import guess_format, rows
    from haven.banks.service import get_bank, import_rows

    try:  # streamed: a file of millions of lines is read batch by batch in one transaction
        with file.open(encoding="utf-8-sig", newline="") as f, database().session() as s:
            bank = get_bank(s, name)
            got = import_rows(s, bank, rows(f, fmt or guess_format(file.name)), actor=CLI_ACTOR, keep_ids=False)
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text")
    console.print(
        f"imported {got.added} entr{'y' if got.added == 1 else 'ies'} into {name} "
        f"({got.read - got.added} duplicate(s) skipped)"
    )


@bank_app.command("export")
@handles_errors
def bank_export(
    name: str,
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file (default: stdout)")] = None,
) -> None:
    """Export a bank's enabled entries in the import format."""
    from haven.banks.formats import dump
    from haven.banks.service import get_bank, iter_entries

    with database().session() as s:
        bank = get_bank(s, name)
        out = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
        try:
            for line in dump(iter_entries(s, bank), fmt):
                out.write(line)
        finally:
            if output:
                out.close()


@bank_app.command("add")
@handles_errors
def bank_add(
    name: str,
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    classification: Annotated[str | None, typer.Option(help="classification of these files, e.g. A1")] = None,
) -> None:
    """Bank the hashes of local files (MD5, SHA-1, SHA-256; PDQ and centre crops for images)."""
    from haven.banks.service import add_entries, entries_from_files, get_bank
    from haven.signals.robust import keep_for_level

    entries, variants, errors = entries_from_files(
        files, classification=classification, max_pixels=settings().max_image_pixels
    )
    for path, problem in errors:
        err.print(f"[yellow]skipped[/yellow] {path}: {problem}", highlight=False)
    with database().session() as s:
        bank = get_bank(s, name)
        ids = add_entries(s, bank, entries, actor=CLI_ACTOR, variants=variants)
        kept = sum(len(keep_for_level(v, bank.robustness)) for v in variants.values())
    console.print(
        f"banked {len(ids)} hash(es) and {kept} robustness variant(s) "
        f"from {len(files) - len(errors)} file(s) into {name}"
    )
    if errors:
        raise typer.Exit(2)


def _errors_as_exit() -> Any:
    from haven.core.cli import clear_errors

    return clear_errors()
