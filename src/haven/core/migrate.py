"""Run the Alembic migrations shipped inside the package (so a wheel install can migrate too).

Capabilities add their tables in their own migration branch off the foundation revision, so
`upgrade` goes to every head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from haven.core.db import make_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def applied(url: str) -> set[str]:
    """The revisions the database at `url` is at (empty: no schema yet)."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)  # for SQLite, creates the parent folder of the file
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "heads") -> str:
    """Bring the database at `url` to the newest schema; say what was done: "created" (a new
    database), "upgraded" or "current" (nothing to do)."""

    before = applied(url)
    command.upgrade(alembic_config(url), revision)
    after = applied(url)
    if not before:
        return "created"
    return "current" if after == before else "upgraded"


def revision(url: str, message: str, branch_label: str | None = None, head: str = "heads") -> None:
    """Autogenerate a migration against the database at `url` (developer tool)."""
    command.revision(alembic_config(url), message=message, autogenerate=True, branch_label=branch_label, head=head)
