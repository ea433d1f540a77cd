"""The root `haven` command and its general sub-commands (serve, db, integration, worker)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from haven.core.cli import CLI_ACTOR, console, database, handle_errors_everywhere, handles_errors, print_table, settings

app = typer.Typer(
    help="Haven: detect, report and remove child sexual abuse material.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
integration_app = typer.Typer(help="Integrations (calling services) and their API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(integration_app, name="integration")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to bind (default HAVEN_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default HAVEN_PORT)")] = None,
    workers: Annotated[int, typer.Option(help="API worker processes")] = 1,
) -> None:
    """Serve the API and the console."""
    import os

    import uvicorn

    from haven.core.settings import SERVED_URL_FILE, get_settings

    s = settings()
    host, port = host or s.host, port or s.port
    # The app (and its worker processes) build links from the address actually served, and other
    # `haven` commands on this var/ print links to it (HAVEN_PUBLIC_URL, when set, wins).
    os.environ["HAVEN_HOST"], os.environ["HAVEN_PORT"] = host, str(port)
    get_settings.cache_clear()
    s = settings()
    s.var_dir.mkdir(parents=True, exist_ok=True)
    (s.var_dir / SERVED_URL_FILE).write_text(s.public_url + "\n")
    console.print(f"Haven at {s.public_url}/console/ (API docs {s.public_url}/docs)")
    uvicorn.run(
        "haven.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
    )


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="work what is ready, then exit")] = False,
) -> None:
    """Work the job queue (deliveries, reports, retention) until stopped."""
    from haven.core.logging import configure_logging
    from haven.worker import run

    s = settings()
    configure_logging(s.log_format, s.log_level, s.is_production)
    ran = run(database(), once=once)
    if once:
        console.print(f"ran {ran} job(s)")


@db_app.command("upgrade")
@handles_errors
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version."""
    from haven.core.migrate import upgrade

    url = settings().effective_database_url
    done = upgrade(url)
    console.print(
        {
            "created": "created the database schema (new database)",
            "upgraded": "upgraded the database schema to the newest version",
            "current": "database schema is up to date (nothing to do)",
        }[done]
    )


@integration_app.command("create")
@handles_errors
def integration_create(
    name: str,
    scopes: Annotated[str, typer.Option(help="comma-separated scopes, e.g. intake,banks:read")] = "intake",
    as_json: Annotated[bool, typer.Option("--json", help="print {id, key} as JSON")] = False,
    mode: Annotated[
        str, typer.Option(help="live, or test: the whole pipeline, no real exchanges, NCMEC production or payments")
    ] = "live",
) -> None:
    """Create an integration and print its API key once (only a hash is stored)."""
    from haven.core.auth import create_integration
    from haven.core.ledger import audit
    from haven.intake.testmode import ensure_test_bank

    with database().session() as s:
        integration, key = create_integration(s, name, [x.strip() for x in scopes.split(",") if x.strip()], mode=mode)
        audit(
            s,
            actor=CLI_ACTOR,
            action="integration.create",
            object_type="integration",
            object_id=integration.id,
            details={"scopes": integration.scopes, "mode": integration.mode},
        )
        if integration.mode == "test":
            ensure_test_bank(s, actor=CLI_ACTOR)  # the documented test inputs (docs/integration.md)
        iid = integration.id
    if as_json:
        print(json.dumps({"id": iid, "key": key, "mode": mode}))
    else:
        label = " in [bold]test[/bold] mode" if mode == "test" else ""
        console.print(f"integration [bold]{name}[/bold] ({iid}) created{label}; its API key, shown only now:")
        print(key)


@integration_app.command("list")
@handles_errors
def integration_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List integrations and their keys (never the secrets)."""
    from haven.core.auth import keys_of, list_integrations

    with database().session() as s:
        rows: list[dict[str, Any]] = [
            {
                "id": i.id,
                "name": i.name,
                "scopes": i.scopes,
                "mode": i.mode,
                "revoked": i.revoked_at is not None,
                "keys": [
                    {"id": k.id, "prefix": k.prefix, "revoked": k.revoked_at is not None} for k in keys_of(s, i.id)
                ],
            }
            for i in list_integrations(s)
        ]
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("id", "name", "mode", "scopes", "keys", "state")
    for r in rows:
        live = sum(1 for k in r["keys"] if not k["revoked"])
        table.add_row(
            r["id"],
            r["name"],
            r["mode"],
            ",".join(r["scopes"]),
            f"{live} live",
            "revoked" if r["revoked"] else "active",
        )
    print_table(table, keep=("id", "name"))


@integration_app.command("revoke")
@handles_errors
def integration_revoke(
    name_or_id: str,
    key: Annotated[str | None, typer.Option(help="revoke only this key id")] = None,
) -> None:
    """Revoke an integration (all its keys) or one key."""
    from haven.core.auth import revoke_integration, revoke_key
    from haven.core.ledger import audit

    with database().session() as s:
        if key:
            row = revoke_key(s, key)
            audit(s, actor=CLI_ACTOR, action="api_key.revoke", object_type="api_key", object_id=row.id)
            console.print(f"key {row.id} revoked")
        else:
            integration = revoke_integration(s, name_or_id)
            audit(s, actor=CLI_ACTOR, action="integration.revoke", object_type="integration", object_id=integration.id)
            console.print(f"integration {integration.name} revoked")


def _register() -> None:
    """The capabilities' commands, from their manifests, and the demo."""
    import typer as _typer

    from haven.capabilities import CAPABILITIES
    from haven.cli.demo import demo_app
    from haven.core.capability import load

    app.add_typer(demo_app, name="demo")
    for cap in CAPABILITIES:
        for name, ref in cap.cli:
            obj = load(ref)
            if isinstance(obj, _typer.Typer):
                app.add_typer(obj, name=name)
            else:
                app.command(name)(obj)
    handle_errors_everywhere(app)


_register()
