"""`haven privacy`: run a retention sweep now, queue the daily sweeps, write the generated docs."""

from __future__ import annotations

import typer

from haven.core.cli import database, handles_errors

privacy_app = typer.Typer(help="Data inventory, retention sweeps, data-subject requests.", no_args_is_help=True)


@privacy_app.command("sweep")
@handles_errors
def sweep(data_class: str = typer.Argument("", help="one class; all when empty")) -> None:
    """Run retention sweeps now (each prints how many rows or files it changed)."""
    from haven.core.errors import Invalid
    from haven.privacy.sweeps import SWEEPS, run_sweep

    if data_class and data_class not in SWEEPS:
        raise Invalid(f"unknown data class {data_class!r}; one of {', '.join(SWEEPS)}", code="unknown_data_class")
    db = database()
    for name in [data_class] if data_class else list(SWEEPS):
        typer.echo(f"{name}: {run_sweep(db, name)}")


@privacy_app.command("schedule")
@handles_errors
def schedule_cmd() -> None:
    """Queue today's sweep of every class; each sweep then re-queues itself daily."""
    from haven.privacy.sweeps import schedule

    typer.echo(f"{schedule(database())} sweep(s) queued")


@privacy_app.command("rewrap")
@handles_errors
def rewrap_cmd() -> None:
    """Re-seal every sealed column under the current HAVEN_SECRETS_KEY (after a rotation, or to
    seal clear text written before sealing); then the old key can be dropped."""
    from haven.privacy.fields import rewrap

    for column, n in rewrap(database()).items():
        typer.echo(f"{column}: {n}")


@privacy_app.command("dpia")
@handles_errors
def dpia_cmd() -> None:
    """Print the children's DPIA template filled from this deployment's configuration (Markdown)."""
    from haven.core.settings import get_settings
    from haven.privacy.dpia import render

    typer.echo(render(get_settings()))
