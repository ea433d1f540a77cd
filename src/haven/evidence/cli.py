"""`haven evidence ...`: the vault from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from haven.core.actors import CLI
from haven.core.cli import console, database, handles_errors, settings

evidence_app = typer.Typer(help="The evidence vault: preserved material, holds, purge, export.", no_args_is_help=True)


def _print(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


@evidence_app.command("list")
@handles_errors
def list_command(
    case: Annotated[str | None, typer.Option(help="only this report case")] = None,
    account: Annotated[str | None, typer.Option(help="only this account")] = None,
) -> None:
    """Preserved objects with their hashes, retention and holds (never the bytes)."""
    from haven.evidence.service import list_objects

    with database().session() as s:
        _print(list_objects(s, CLI, case, account))


@evidence_app.command("custody")
@handles_errors
def custody_command(object_id: str) -> None:
    """The custody record of one object: every access and event, oldest first."""
    from haven.evidence.vault import custody_record, get_object

    with database().session() as s:
        get_object(s, object_id)
        _print(custody_record(s, object_id))


@evidence_app.command("holds")
@handles_errors
def holds_command(all_: Annotated[bool, typer.Option("--all", help="include released holds")] = False) -> None:
    from haven.evidence.service import list_holds

    with database().session() as s:
        _print(list_holds(s, CLI, all_))


@evidence_app.command("hold")
@handles_errors
def hold_command(
    reason: Annotated[str, typer.Option(help="why (e.g. the legal matter)")],
    case: Annotated[str | None, typer.Option()] = None,
    object_id: Annotated[str | None, typer.Option("--object")] = None,
    account: Annotated[str | None, typer.Option()] = None,
    until: Annotated[str | None, typer.Option(help="ISO date-time when the hold lapses")] = None,
) -> None:
    """Place a legal hold: deletion of what it covers is blocked."""
    from haven.evidence.vault import place_hold

    expires = datetime.fromisoformat(until) if until else None
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    with database().session() as s:
        hold = place_hold(
            s, actor=CLI, reason=reason, case_id=case, object_id=object_id, account_id=account, expires_at=expires
        )
        console.print(f"hold {hold.id} placed")


@evidence_app.command("release")
@handles_errors
def release_command(hold_id: str) -> None:
    from haven.evidence.vault import release_hold

    with database().session() as s:
        release_hold(s, hold_id, actor=CLI)
    console.print("released; the purge job re-checks what it held")


@evidence_app.command("purge")
@handles_errors
def purge_command() -> None:
    """Destroy now what the retention period no longer keeps and no hold covers (the worker does this by itself)."""
    from haven.evidence.vault import Vault

    with database().session() as s:
        purged = Vault.from_settings(settings()).purge(s)
    console.print(f"{len(purged)} object(s) purged")


@evidence_app.command("destroy")
@handles_errors
def destroy_command(
    object_ids: list[str],
    reason: Annotated[str, typer.Option(help="e.g. 'destruction requested by law enforcement'")],
    request: Annotated[str, typer.Option(help="the verified law-enforcement request asking for it")],
) -> None:
    """Permanently destroy objects (18 U.S.C. 2258B(c))."""
    from haven.evidence.vault import Vault

    vault = Vault.from_settings(settings())
    with database().session() as s:
        for oid in object_ids:
            vault.destroy(s, oid, actor=CLI, reason=reason, legal_request_id=request)
    console.print(f"{len(object_ids)} object(s) destroyed")


@evidence_app.command("read")
@handles_errors
def read_command(
    object_id: str,
    purpose: Annotated[str, typer.Option(help="why you need to see it (kept in the audit log)")],
    out: Annotated[Path, typer.Option(help="file to write the decrypted bytes to")],
) -> None:
    """Decrypt one object for a person to look at (audited as a read and a media view)."""
    from haven.evidence.vault import Vault

    with database().session() as s:
        data = Vault.from_settings(settings()).read(s, object_id, actor=CLI, purpose=purpose, view=True)
    out.write_bytes(data)
    out.chmod(0o600)
    console.print(f"wrote {out} ({len(data)} bytes)")


@evidence_app.command("export")
@handles_errors
def export_command(
    object_ids: list[str],
    purpose: Annotated[str, typer.Option(help="why these objects leave the vault")],
    out: Annotated[Path, typer.Option(help="zip file to write")],
) -> None:
    """An export package: objects, manifest, SHA256SUMS and custody record."""
    from haven.evidence.vault import Vault

    with database().session() as s:
        data = Vault.from_settings(settings()).export(s, object_ids, actor=CLI, purpose=purpose)
    out.write_bytes(data)
    out.chmod(0o600)
    console.print(f"wrote {out} ({len(data)} bytes)")
