"""`haven youth`: the practice statement, the weekly guardian digests, the configuration check."""

from __future__ import annotations

import typer

from haven.core.cli import database, handles_errors

youth_app = typer.Typer(help="Age assurance, protections and parental controls.", no_args_is_help=True)


@youth_app.command("practice")
@handles_errors
def practice() -> None:
    """Print the public age-assurance practice statement (Markdown) made from the configuration."""
    from haven.youth.practice import statement

    typer.echo(statement())


@youth_app.command("digest")
@handles_errors
def digest() -> None:
    """Send this week's guardian digests (run weekly, e.g. from cron); each link once a week."""
    from haven.youth.guardians import send_digests

    with database().session() as s:
        n = send_digests(s)
    typer.echo(f"{n} digest(s) queued")


@youth_app.command("purge-expired")
@handles_errors
def purge_expired_cmd() -> None:
    """Delete age signals kept longer than the configured retention after they stopped counting."""
    from haven.youth.service import purge_expired

    with database().session() as s:
        n = purge_expired(s)
    typer.echo(f"{n} expired age signal(s) deleted")
