"""`haven webhook ...`, `haven dsa export`, `haven appeal decide`, `haven reporter unfounded`,
`haven notice hold|release` and `haven ladder show`."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from haven.core.cli import CLI_ACTOR, console, database, fail, handles_errors, print_table

webhook_app = typer.Typer(help="Webhook endpoint, deliveries and dead letters.", no_args_is_help=True)
dsa_app = typer.Typer(help="DSA Transparency Database: export and submit statements of reasons.", no_args_is_help=True)
appeal_app = typer.Typer(help="Appeals (DSA Art 20).", no_args_is_help=True)
reporter_app = typer.Typer(help="Reporters' standing (DSA Art 23).", no_args_is_help=True)
notice_app = typer.Typer(help="Law-enforcement holds on notices.", no_args_is_help=True)
ladder_app = typer.Typer(help="Strikes and the enforcement ladder.", no_args_is_help=True)


@webhook_app.command("set")
@handles_errors
def webhook_set(
    url: str,
    secret_env: Annotated[str, typer.Option(help="name of the environment variable holding the secret")] = (
        "HAVEN_WEBHOOK_SECRET"  # noqa: S107 (the variable's name, not a secret)
    ),
) -> None:
    """Set the endpoint; the secret is read from an environment variable, never from the command line."""
    from haven.enforce.webhooks import configure_endpoint

    secret = os.environ.get(secret_env, "")
    if not secret:
        fail(f"set the secret in the environment variable {secret_env}")
    with database().session() as s:
        configure_endpoint(s, url=url, secret=secret, actor=CLI_ACTOR)
    from haven.core.outbound import redact_url

    console.print(f"webhook endpoint set to {redact_url(url)}")


@webhook_app.command("rotate")
@handles_errors
def webhook_rotate(
    grace_hours: Annotated[float, typer.Option(help="how long the replaced secret keeps signing")] = 24.0,
) -> None:
    """Make a new `whsec_` signing secret and print it once; the old one keeps signing beside it
    (two `v1,` signatures) for --grace-hours, so the receiver can switch without losing a request."""
    from datetime import timedelta

    from haven.enforce.webhooks import rotate_secret

    if grace_hours < 0:
        fail("--grace-hours cannot be negative")
    with database().session() as s:
        row, secret = rotate_secret(s, actor=CLI_ACTOR, grace=timedelta(hours=grace_hours))
        until = row.previous_until.isoformat() if row.previous_until else "now"
    console.print(f"new signing secret (shown once); the previous one signs too until {until}:")
    print(secret)


@webhook_app.command("rewrap")
@handles_errors
def webhook_rewrap() -> None:
    """Seal every stored webhook secret under the current HAVEN_SECRETS_KEY (after a rotation,
    while the previous key is still in HAVEN_SECRETS_OLD_KEYS)."""
    from haven.enforce.webhooks import rewrap_secrets

    with database().session() as s:
        n = rewrap_secrets(s)
    console.print(f"{n} webhook secret(s) sealed under the current key")


@webhook_app.command("list")
@handles_errors
def webhook_list(
    status: Annotated[str | None, typer.Option(help="pending, delivered or dead")] = None,
    limit: int = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Deliveries, newest first (`--status dead` is the dead-letter list)."""
    from haven.enforce.webhooks import list_deliveries

    with database().session() as s:
        rows = [
            {
                "id": r.id,
                "action": r.action_type,
                "subject": f"{r.subject_type}:{r.subject_id}",
                "status": r.status,
                "attempts": r.attempts,
                "last_status": r.last_status,
                "last_error": r.last_error,
                "created_at": r.created_at.isoformat(),
            }
            for r in list_deliveries(s, status, limit)
        ]
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("id", "action", "subject", "status", "attempts", "last error")
    for r in rows:
        table.add_row(*(str(r[k] or "") for k in ("id", "action", "subject", "status", "attempts", "last_error")))
    print_table(table, keep=("id", "subject"))


@webhook_app.command("replay")
@handles_errors
def webhook_replay(
    delivery_id: Annotated[str | None, typer.Argument()] = None,
    all_dead: Annotated[bool, typer.Option("--all", help="replay every dead letter")] = False,
) -> None:
    """Send dead letters again (same body and idempotency key)."""
    from haven.enforce.webhooks import dead_letters, replay

    if not delivery_id and not all_dead:
        fail("give a delivery id or --all")
    with database().session() as s:
        ids = [d.id for d in dead_letters(s, 10_000)] if all_dead else [str(delivery_id)]
        for i in ids:
            replay(s, i, actor=CLI_ACTOR)
    console.print(f"{len(ids)} delivery(ies) queued again")


@dsa_app.command("export")
@handles_errors
def dsa_export(
    out: Annotated[Path | None, typer.Option(help="write the JSON here (default: stdout)")] = None,
    submit: Annotated[bool, typer.Option(help="submit to HAVEN_TDB_URL instead of only exporting")] = False,
    limit: Annotated[int, typer.Option(help="statements to export")] = 100,
) -> None:
    """Export pending statements of reasons in Transparency Database form, or submit them."""
    from haven.enforce.tdb import client_from_settings, pending, submit_pending, validate

    with database().session() as s:
        if submit:
            client = client_from_settings()
            if client is None:
                fail("set HAVEN_TDB_URL and HAVEN_TDB_TOKEN to submit")
                return
            total = {"submitted": 0, "rejected": 0}
            while True:
                counts = submit_pending(s, client)
                total["submitted"] += counts["submitted"]
                total["rejected"] += counts["rejected"]
                if not counts["remaining"] or not (counts["submitted"] or counts["rejected"]):
                    break
            console.print(f"{total['submitted']} submitted, {total['rejected']} rejected")
            return
        statements = [r.fields for r in pending(s, limit)]
    problems = {st["puid"]: validate(st) for st in statements if validate(st)}
    doc = json.dumps({"statements": statements}, indent=2, sort_keys=True)
    if out:
        out.write_text(doc)
        console.print(f"{len(statements)} statement(s) written to {out}")
    else:
        sys.stdout.write(doc + "\n")
    if problems:
        fail(f"{len(problems)} statement(s) would be refused: {next(iter(problems.values()))[0]}")


@appeal_app.command("decide")
@handles_errors
def appeal_decide(
    appeal_id: str,
    reviewer: Annotated[str, typer.Option(help="staff reference of the reviewer, e.g. staff:42")],
    reason: Annotated[str, typer.Option(help="the reasons, told to the appellant")],
    uphold: Annotated[bool, typer.Option("--uphold/--reject", help="reverse the decision, or let it stand")] = False,
) -> None:
    """Decide an appeal on behalf of a reviewer who did not take the original decision."""
    from haven.enforce.appeals import resolve

    with database().session() as s:
        row = resolve(s, appeal_id, upheld=uphold, reviewer=reviewer, reason=reason)
        console.print(f"appeal {row.id}: {row.status}")


@reporter_app.command("unfounded")
@handles_errors
def reporter_unfounded(reporter_id: str, reason: Annotated[str, typer.Option()]) -> None:
    """Invalidate a reporter's pending reports; warn, or suspend reporting after a warning."""
    from haven.enforce.notices.service import mark_unfounded

    with database().session() as s:
        out = mark_unfounded(s, reporter_id, actor=CLI_ACTOR, reason=reason)
    console.print(f"reporter {reporter_id} {out['action']}; {len(out['invalidated'])} pending report(s) invalidated")


@notice_app.command("hold")
@handles_errors
def notice_hold(
    account_id: str,
    reference: Annotated[str, typer.Option(help="the law-enforcement request's reference")],
    reason: Annotated[str, typer.Option()] = "",
    until: Annotated[str | None, typer.Option(help="ISO 8601 time with zone; default: until released")] = None,
) -> None:
    """Hold statements of reasons to an account (ongoing investigation)."""
    from haven.enforce.statements import place_hold

    at = datetime.fromisoformat(until) if until else None
    with database().session() as s:
        row = place_hold(s, account_id=account_id, reference=reference, reason=reason, until=at, actor=CLI_ACTOR)
        console.print(f"hold {row.id} placed on notices to {account_id}")


@notice_app.command("release")
@handles_errors
def notice_release(hold_id: str) -> None:
    """Release a hold; the statements it held are delivered."""
    from haven.enforce.statements import release_hold

    with database().session() as s:
        rows = release_hold(s, hold_id, actor=CLI_ACTOR)
    console.print(f"hold {hold_id} released; {len(rows)} statement(s) sent")


@ladder_app.command("show")
@handles_errors
def ladder_show() -> None:
    """The severity levels, category severities and thresholds in force."""
    from haven.enforce.strikes import ladder

    cfg = ladder()
    t = Table("severity", "strike", "first offence", "expiry (days)")
    for name, sev in cfg.severities.items():
        t.add_row(name, str(sev.strike), str(sev.first_offence), str(sev.expiry_days or "never"))
    console.print(t)
    t = Table("points", "action", "features", "days")
    for th in cfg.thresholds:
        t.add_row(str(th.points), th.action, ",".join(th.features), str(th.duration_days or ""))
    console.print(t)
    console.print("categories: " + ", ".join(f"{c}={s}" for c, s in cfg.categories.items()), highlight=False)
