"""`haven exchange add|list|show|fetch|disable|enable|feedback|partner|share|publish`.

Credentials are read from the environment variables named with `--credential-env key=VAR` (so
they never appear in the shell history or the process list), sealed at once, and never printed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from haven.core.cli import CLI_ACTOR, console, database, fail, handles_errors, print_table

exchange_app = typer.Typer(
    help="Hash-sharing exchanges: NCMEC, StopNCII, ThreatExchange, Haven feeds.", no_args_is_help=True
)


def _pairs(values: list[str], what: str) -> dict[str, str]:
    out = {}
    for v in values:
        k, sep, rest = v.partition("=")
        if not sep or not k or not rest:
            fail(f"{what} takes key=value, not '{v}'")
        out[k.strip()] = rest.strip()
    return out


@exchange_app.command("add")
@handles_errors
def add(
    name: str,
    kind: Annotated[str, typer.Option(help="ncmec, stopncii, threatexchange or haven_feed")],
    url: Annotated[str, typer.Option(help="the provider's base URL (NCMEC: the environment's)")],
    bank: Annotated[list[str], typer.Option("--list", help="upstream list=bank ('*=bank' for all)")],
    credential_env: Annotated[list[str], typer.Option(help="credential=ENV_VAR, e.g. password=NCMEC_PASSWORD")] = [],  # noqa: B006
    config: Annotated[list[str], typer.Option(help="connector setting key=value (JSON values allowed)")] = [],  # noqa: B006
    trust_mode: Annotated[str, typer.Option(help="active or quarantine (until a first confirmed match)")] = "active",
    interval: Annotated[int, typer.Option(help="seconds between fetches")] = 3600,
    dispute_threshold: Annotated[int, typer.Option(help="overturns that disable an entry")] = 3,
    classification: Annotated[
        list[str], typer.Option(help="upstream list=classification for entries the upstream does not classify")
    ] = [],  # noqa: B006
) -> None:
    """Configure an exchange."""
    from haven.exchange.jobs import queue_fetch
    from haven.exchange.service import create_exchange

    creds = {}
    for key, var in _pairs(credential_env, "--credential-env").items():
        value = os.environ.get(var)
        if not value:
            fail(f"the environment variable {var} (credential {key}) is empty")
        creds[key] = str(value)
    cfg: dict[str, object] = {}
    for k, v in _pairs(config, "--config").items():
        try:
            cfg[k] = json.loads(v)
        except ValueError:
            cfg[k] = v
    with database().session() as s:
        ex = create_exchange(
            s,
            name=name,
            kind=kind,
            base_url=url,
            credentials=creds,
            lists=_pairs(bank, "--list"),
            actor=CLI_ACTOR,
            config=cfg,
            trust_mode=trust_mode,
            fetch_interval_seconds=interval,
            dispute_threshold=dispute_threshold,
            classifications=_pairs(classification, "--classification"),
        )
        queue_fetch(s, ex.id)
        console.print(f"exchange [bold]{ex.name}[/bold] added ({ex.id}); first fetch queued")


@exchange_app.command("list")
@handles_errors
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every exchange with its last fetch, counts and error."""
    from sqlalchemy import select

    from haven.exchange.models import Exchange
    from haven.exchange.service import state

    with database().session() as s:
        rows = [state(s, ex) for ex in s.scalars(select(Exchange).order_by(Exchange.name))]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("name", "kind", "enabled", "last success", "live", "deleted", "error")
    for r in rows:
        table.add_row(
            r["name"],
            r["kind"],
            str(r["enabled"]),
            str(r["last_success_at"] or "-"),
            str(r["live_entries"]),
            str(r["deleted_entries"]),
            str(r["last_error_code"] or ""),
        )
    print_table(table, keep=("name",))


@exchange_app.command("show")
@handles_errors
def show(name: str) -> None:
    """One exchange's state as JSON (never its credentials)."""
    from haven.exchange.service import get_exchange, state

    with database().session() as s:
        print(json.dumps(state(s, get_exchange(s, name)), indent=2))


@exchange_app.command("fetch")
@handles_errors
def fetch_cmd(name: str, max_pages: Annotated[int | None, typer.Option()] = None) -> None:
    """Fetch now, in this process, from the stored checkpoint."""
    from haven.exchange.service import fetch

    summary = fetch(database(), name, actor=CLI_ACTOR, max_pages=max_pages)
    print(json.dumps(summary))


@exchange_app.command("disable")
@handles_errors
def disable(name: str) -> None:
    """Stop fetching an exchange (its entries stay)."""
    from haven.exchange.service import get_exchange, set_enabled

    with database().session() as s:
        set_enabled(s, get_exchange(s, name), False, actor=CLI_ACTOR)
    console.print(f"exchange {name} disabled")


@exchange_app.command("enable")
@handles_errors
def enable(name: str) -> None:
    """Fetch an exchange again on its interval (the next fetch is queued now)."""
    from haven.exchange.jobs import queue_fetch
    from haven.exchange.service import get_exchange, set_enabled

    with database().session() as s:
        ex = get_exchange(s, name)
        set_enabled(s, ex, True, actor=CLI_ACTOR)
        queue_fetch(s, ex.id)
    console.print(f"exchange {name} enabled; a fetch is queued")


@exchange_app.command("feedback")
@handles_errors
def feedback(name: str) -> None:
    """The feedback queued, sent or refused for an exchange's entries."""
    from sqlalchemy import func, select

    from haven.exchange.models import ExchangeFeedback
    from haven.exchange.service import get_exchange

    with database().session() as s:
        ex = get_exchange(s, name)
        rows = s.execute(
            select(ExchangeFeedback.sentiment, ExchangeFeedback.status, func.count())
            .where(ExchangeFeedback.exchange_id == ex.id)
            .group_by(ExchangeFeedback.sentiment, ExchangeFeedback.status)
        ).all()
    print(json.dumps([{"sentiment": a, "status": b, "count": c} for a, b, c in rows]))


@exchange_app.command("partner")
@handles_errors
def partner(
    name: str,
    bank: Annotated[list[str], typer.Option("--bank", help="a local_confirmed bank to share")],
    integration: Annotated[str, typer.Option(help="the integration whose key the partner reads the feed with")],
    ttl_days: Annotated[int, typer.Option(help="days a published entry stays valid")] = 90,
) -> None:
    """Add a partner (sharing stays off until `haven exchange share`)."""
    from haven.core.auth import find_integration
    from haven.exchange.publish import add_partner

    with database().session() as s:
        integ = find_integration(s, integration)
        if "exchanges:feed" not in integ.scopes:
            fail("the partner's integration needs the exchanges:feed scope")
        p = add_partner(s, name=name, banks=bank, integration_id=integ.id, actor=CLI_ACTOR, ttl_days=ttl_days)
        console.print(f"partner {p.name} added ({p.id}); sharing is off until a staff member enables it")


@exchange_app.command("share")
@handles_errors
def share(
    name: str,
    staff: Annotated[str, typer.Option(help="the staff member deciding (id or email)")],
    reason: Annotated[str, typer.Option(help="why this partner may receive the hashes")] = "",
    off: Annotated[bool, typer.Option("--off")] = False,
) -> None:
    """Record a staff decision to share (or stop sharing) with a partner, in the audit log."""
    from sqlalchemy import select

    from haven.exchange.publish import get_partner, set_sharing
    from haven.staff.models import StaffMember as Staff

    with database().session() as s:
        member = s.get(Staff, staff) or s.scalar(select(Staff).where(Staff.email == staff))
        if member is None:
            fail(f"no staff member '{staff}'")
        assert member is not None
        set_sharing(s, get_partner(s, name), not off, actor=f"staff:{member.id}", reason=reason)
    console.print(f"sharing with {name} {'disabled' if off else 'enabled'}")


@exchange_app.command("publish")
@handles_errors
def publish(
    partner_name: Annotated[str, typer.Argument(metavar="PARTNER")] = "",
    out: Annotated[Path | None, typer.Option(help="write the whole feed to this file")] = None,
    public_key: Annotated[bool, typer.Option("--public-key", help="print the key partners pin")] = False,
) -> None:
    """Print the public key partners pin, or write a partner's whole signed feed to a file."""
    from haven.exchange.publish import feed_page, get_partner
    from haven.exchange.publish import public_key as pub

    if public_key:
        print(pub())
        return
    if not partner_name or out is None:
        fail("give a PARTNER and --out, or --public-key")
    assert out is not None
    with database().session() as s:
        text = feed_page(s, get_partner(s, partner_name), after="", limit=5000)
    out.write_text(text)
    console.print(f"feed written to {out}")
