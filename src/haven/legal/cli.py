"""`haven legal ...`: law-enforcement requests from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from haven.core.actors import CLI
from haven.core.cli import console, database, handles_errors, print_table, settings

legal_app = typer.Typer(
    help="Law-enforcement requests: intake, verification, deadlines, productions.", no_args_is_help=True
)


def _when(v: str | None) -> datetime | None:
    if not v:
        return None
    t = datetime.fromisoformat(v.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _print(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


@legal_app.command("new")
@handles_errors
def new_command(
    kind: Annotated[str, typer.Option(help="preservation, subpoena, court_order, search_warrant, emergency, foreign")],
    agency: Annotated[str, typer.Option()],
    requester: Annotated[str, typer.Option(help="the requesting officer")],
    target: Annotated[list[str], typer.Option(help="a target account (repeat)")],
    email: Annotated[str | None, typer.Option()] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    reference: Annotated[str | None, typer.Option(help="the agency's case or process number")] = None,
    country: Annotated[str, typer.Option()] = "US",
    due: Annotated[str | None, typer.Option(help="ISO date-time the answer is due")] = None,
    ndo_until: Annotated[str | None, typer.Option(help="non-disclosure order in force until (ISO)")] = None,
) -> None:
    """Record a request (a preservation request places 90-day holds on its targets)."""
    from haven.legal.service import create_request

    with database().session() as s:
        req = create_request(
            s,
            CLI,
            kind=kind,
            agency=agency,
            requester_name=requester,
            targets=target,
            requester_email=email,
            requester_phone=phone,
            reference=reference,
            country=country,
            due_at=_when(due),
            nondisclosure_until=_when(ndo_until),
        )
        print(req.id)


@legal_app.command("list")
@handles_errors
def list_command(
    overdue: Annotated[bool, typer.Option("--overdue", help="only overdue requests")] = False,
    all_: Annotated[bool, typer.Option("--all", help="include closed requests")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Requests with their deadlines, overdue first."""
    from haven.legal.service import listing

    with database().session() as s:
        rows = listing(s, CLI, overdue_only=overdue, include_closed=all_)
    if as_json:
        _print(rows)
        return
    table = Table("id", "kind", "agency", "status", "verified", "due", "hours left", "NDO until")
    for r in rows:
        style = "red" if r["overdue"] else None
        table.add_row(
            r["id"],
            r["kind"],
            r["agency"],
            r["status"],
            r["verification"],
            r["due_at"] or "",
            str(r["hours_left"]),
            r["nondisclosure_until"] or "",
            style=style,
        )
    print_table(table, keep=("id",))


@legal_app.command("show")
@handles_errors
def show_command(request_id: str) -> None:
    from haven.legal.service import get_request, row

    with database().session() as s:
        _print(row(get_request(s, request_id, CLI)))


@legal_app.command("verify")
@handles_errors
def verify_command(
    request_id: str,
    note: Annotated[str, typer.Option(help="how the requester was verified")],
    failed: Annotated[bool, typer.Option("--failed", help="the requester could not be verified")] = False,
) -> None:
    from haven.legal.service import verify

    with database().session() as s:
        req = verify(s, request_id, CLI, verified=not failed, note=note)
        console.print(req.verification)


@legal_app.command("renew")
@handles_errors
def renew_command(request_id: str) -> None:
    """Extend a preservation request by 90 days (once)."""
    from haven.legal.service import renew_preservation

    with database().session() as s:
        req = renew_preservation(s, request_id, CLI)
        console.print(f"preserved until {req.preservation_expires_at}")


@legal_app.command("notice")
@handles_errors
def notice_command(
    request_id: str,
    decision: Annotated[str, typer.Option(help="notify, withhold or notified")],
    reason: Annotated[str, typer.Option()],
) -> None:
    """Record the user-notice decision (notifying is refused under a non-disclosure order)."""
    from haven.legal.service import decide_notice

    with database().session() as s:
        decide_notice(s, request_id, CLI, decision=decision, reason=reason)
    console.print(decision)


@legal_app.command("produce")
@handles_errors
def produce_command(
    request_id: str,
    include: Annotated[str, typer.Option(help="comma-separated: subscriber,non_content,content")],
    out: Annotated[Path, typer.Option(help="zip file to write")],
    purpose: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Build the production package; refused beyond what the kind of process allows."""
    from haven.legal.service import produce

    with database().session() as s:
        blob = produce(
            s,
            settings(),
            request_id,
            CLI,
            include=[x.strip() for x in include.split(",") if x.strip()],
            purpose=purpose,
        )
    out.write_bytes(blob)
    out.chmod(0o600)
    console.print(f"wrote {out} ({len(blob)} bytes)")


@legal_app.command("close")
@handles_errors
def close_command(request_id: str, note: Annotated[str | None, typer.Option()] = None) -> None:
    """Close a request (its preservation holds are released)."""
    from haven.legal.service import close

    with database().session() as s:
        close(s, request_id, CLI, note)
    console.print("closed")
