"""`haven report ...` (the report desk from the command line) and `haven dev cybertip-double`."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from haven.core.actors import CLI
from haven.core.cli import console, database, fail, handles_errors, print_table, settings

report_app = typer.Typer(help="CyberTipline reports: draft, submit, follow.", no_args_is_help=True)
dev_app = typer.Typer(help="Development tools.", no_args_is_help=True)


def _print(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


@report_app.command("list")
@handles_errors
def list_command(
    status: Annotated[str | None, typer.Option(help="only this status")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Report cases, newest first, with their age since first knowledge."""
    from haven.cybertip.cases import list_cases
    from haven.cybertip.service import summary

    with database().session() as s:
        rows = [summary(s, c) for c in list_cases(s, CLI, status)]
    if as_json:
        _print(rows)
        return
    table = Table("id", "status", "category", "files", "NCMEC id", "age", "deadline", "error")
    for r in rows:
        table.add_row(
            r["id"],
            r["status"],
            r["category"],
            str(len(r["files"]) or len(r["content_ids"])),
            r["ncmec_report_id"] or "",
            f"{r['age_seconds'] // 3600}h",
            r["open_report_deadline"] or "",
            (r["error"] or {}).get("message") or "",
        )
    print_table(table, keep=("id", "NCMEC id"))


@report_app.command("show")
@handles_errors
def show_command(
    case_id: str,
    xml: Annotated[
        bool, typer.Option("--xml", help="print the report XML (and each file's details) as it would be sent")
    ] = False,
    calls: Annotated[bool, typer.Option("--calls", help="every request and response with its Request-ID")] = False,
) -> None:
    """One case: every field, its status and receipt; or its XML."""
    from haven.cybertip.cases import get_case, render
    from haven.cybertip.config import cybertip_settings
    from haven.cybertip.service import calls as list_calls
    from haven.cybertip.service import summary

    with database().session() as s:
        case = get_case(s, case_id, CLI)
        if xml:
            from sqlalchemy import select

            from haven.cybertip.models import Submission

            sent = s.scalar(select(Submission).where(Submission.case_id == case.id, Submission.state == "finished"))
            if sent is not None:
                print(sent.xml)  # what was actually filed
                return
            out = render(s, case_id, CLI, cybertip_settings())
            print(out["xml"])
            for f in out["files"]:
                print(f["details_xml"])
            if out["errors"]:
                fail("; ".join(out["errors"][:3]))
            return
        if calls:
            _print(list_calls(s, case.id))
            return
        _print(summary(s, case))


@report_app.command("edit")
@handles_errors
def edit_command(
    case_id: str,
    field: Annotated[
        list[str], typer.Option("--set", help='FIELD=JSON, e.g. --set \'victims=[{"esp_identifier": "u2"}]\'')
    ],
) -> None:
    """Change what the law leaves to the service in a draft."""
    from haven.cybertip.cases import update_case

    changes: dict[str, Any] = {}
    for item in field:
        name, _, raw = item.partition("=")
        try:
            changes[name.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            changes[name.strip()] = raw
    with database().session() as s:
        update_case(s, case_id, CLI, changes)
    console.print(f"updated {', '.join(sorted(changes))}")


@report_app.command("escalate")
@handles_errors
def escalate_command(case_id: str, reason: str) -> None:
    """Ask NCMEC for high priority: a child is at imminent risk (the reason is sent)."""
    from haven.cybertip.cases import escalate

    with database().session() as s:
        escalate(s, case_id, CLI, reason)
    console.print("the report will be sent with escalateToHighPriority")


@report_app.command("attach-conversation")
@handles_errors
def attach_command(case_id: str, path: Path) -> None:
    """Attach a conversation (CSV with sent_at,sender,recipient,text, or a JSON list) to a text-only case."""
    from haven.cybertip.cases import attach_conversation

    text = path.read_text(encoding="utf-8")
    rows = json.loads(text) if path.suffix == ".json" else list(csv.DictReader(text.splitlines()))
    with database().session() as s:
        attach_conversation(s, case_id, CLI, rows)
    console.print(f"{len(rows)} message(s) attached")


@report_app.command("submit")
@handles_errors
def submit_command(
    case_id: str,
    now: Annotated[
        bool, typer.Option("--now", help="run the submission here instead of leaving it to `haven worker`")
    ] = False,
) -> None:
    """Queue a case for the CyberTipline (the environment of HAVEN_CYBERTIP_ENVIRONMENT)."""
    from haven.cybertip.cases import queue_submission
    from haven.cybertip.config import cybertip_settings

    cfg = cybertip_settings()
    db = database()
    with db.session() as s:
        queue_submission(s, settings(), case_id, CLI, cfg)
    if not now:
        console.print(f"queued for the {cfg.environment} CyberTipline; `haven worker` submits it")
        return
    from haven.core.jobs import RetryLater
    from haven.cybertip.machine import advance

    try:
        status = advance(db, case_id, cfg)
    except RetryLater as exc:
        fail(f"not finished yet, the worker will retry: {exc}")
        return
    with db.session() as s:
        from haven.cybertip.models import ReportCase

        case = s.get(ReportCase, case_id)
        if case is not None and case.status != "finished":
            fail(f"{status}: {case.error_message}")
        console.print(f"finished: NCMEC report {case.ncmec_report_id if case else ''}")


@report_app.command("cancel")
@handles_errors
def cancel_command(case_id: str, reason: str) -> None:
    """Withdraw a case before it is finished (an open NCMEC report is retracted)."""
    from haven.cybertip.cases import cancel

    with database().session() as s:
        case = cancel(s, case_id, CLI, reason)
        console.print(case.status)


@report_app.command("resume")
@handles_errors
def resume_command(case_id: str) -> None:
    """Re-queue a case paused on a credential alert, once the credentials are fixed."""
    from haven.cybertip.cases import resume

    with database().session() as s:
        resume(s, case_id, CLI)
    console.print("queued")


@report_app.command("status")
@handles_errors
def status_command() -> None:
    """Check connectivity and credentials with `GET /status`."""
    from haven.cybertip.config import cybertip_settings
    from haven.cybertip.service import check_status

    out = check_status(cybertip_settings())
    _print(out)
    if out["code"] != 0:
        fail(f"the CyberTipline answered code {out['code']}")


@report_app.command("refresh-xsd")
@handles_errors
def refresh_xsd_command() -> None:
    """Fetch the authoritative schema from `GET /xsd`; Haven then validates against it."""
    from haven.cybertip.config import cybertip_settings
    from haven.cybertip.service import refresh_xsd

    path = refresh_xsd(cybertip_settings(), settings().var_dir)
    console.print(f"schema saved to {path}")


@dev_app.command("cybertip-double")
def cybertip_double(
    port: Annotated[int, typer.Option(help="loopback port")] = 8765,
    username: Annotated[str, typer.Option(envvar="HAVEN_CYBERTIP_USERNAME")] = "haven",
    password: Annotated[str, typer.Option(envvar="HAVEN_CYBERTIP_PASSWORD")] = "haven",  # noqa: S107  (a local double)
) -> None:
    """Serve a faithful local double of the CyberTipline API on 127.0.0.1 (base URL .../ispws)."""
    import uvicorn

    from haven.cybertip.double import create_double

    console.print(f"CyberTipline double at http://127.0.0.1:{port}/ispws (user {username})")
    uvicorn.run(create_double(username, password), host="127.0.0.1", port=port, log_config=None, access_log=False)
