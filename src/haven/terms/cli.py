"""`haven terms ...`: terms of service versions."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from haven.core.cli import CLI_ACTOR, console, database, fail, handles_errors

terms_app = typer.Typer(help="Terms of service versions.", no_args_is_help=True)


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
    from haven.terms import service as terms

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
