"""Law-enforcement requests: intake, verification, deadlines, holds, and productions limited by
the kind of legal process."""

from haven.core.capability import Capability

CAPABILITY = Capability(
    name="legal",
    summary="Law-enforcement requests: verification, deadlines, productions limited by process.",
    routers=("haven.legal.api:router",),
    pages=("haven.legal.pages:router",),
    models=("haven.legal.models",),
    data=("haven.legal.data_inventory",),
    cli=(("legal", "haven.legal.cli:legal_app"),),
)
