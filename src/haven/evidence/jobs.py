"""Worker jobs of the vault: the automatic purge when retention ends."""

from __future__ import annotations

from haven.core.db import Database
from haven.core.jobs import handler
from haven.core.models import Job
from haven.core.settings import get_settings
from haven.evidence.vault import Vault


@handler("evidence.purge")
def purge_job(db: Database, job: Job) -> None:
    """Purge everything whose retention ended and no hold covers (not only the job's case:
    one sweep is cheap and catches objects whose hold was released since)."""
    vault = Vault.from_settings(get_settings())
    with db.session() as s:
        vault.purge(s)
    with db.session() as s:
        vault.sweep_orphans(s)
