"""The `haven` command: one Typer app, with a sub-app per capability."""

from haven.cli.main import app

__all__ = ["app"]
