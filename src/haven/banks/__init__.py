"""Hash banks of known material, allowlists and confirmed cases, and the match index."""

from haven.core.capability import Capability

CAPABILITY = Capability(
    name="banks",
    summary="Hash banks of known material, allowlists and confirmed cases, and the match index.",
    routers=("haven.banks.api:router",),
    models=("haven.banks.models",),
    data=("haven.banks.data_inventory",),
    cli=(("bank", "haven.banks.cli:bank_app"),),
)
