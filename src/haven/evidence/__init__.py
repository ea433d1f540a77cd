"""The evidence vault: encrypted preservation, legal holds, retention and purge, export."""

from haven.core.capability import Capability
from haven.evidence.vault import READ_ROLES, Vault, active_holds, custody_record, place_hold, release_hold

__all__ = ["READ_ROLES", "Vault", "active_holds", "custody_record", "place_hold", "release_hold"]

CAPABILITY = Capability(
    name="evidence",
    summary="The evidence vault: encrypted preservation, legal holds, retention, export.",
    routers=("haven.evidence.api:router",),
    pages=("haven.evidence.pages:router",),
    models=("haven.evidence.models",),
    data=("haven.evidence.data_inventory",),
    jobs=("haven.evidence.jobs",),
    cli=(("evidence", "haven.evidence.cli:evidence_app"),),
)
