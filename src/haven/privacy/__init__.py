"""Privacy by design: the data inventory, retention sweeps per data class, data-subject requests
(access and erasure) and the generated DPIA (docs/data-inventory.md, docs/dpia.md)."""

from haven.core.capability import Capability

CAPABILITY = Capability(
    name="privacy",
    summary="What Haven keeps, why and for how long; retention sweeps; access and erasure requests",
    routers=("haven.privacy.api:router",),
    pages=("haven.privacy.pages:router",),
    jobs=("haven.privacy.sweeps",),
    subscribers=("haven.privacy.sweeps",),
    cli=(("privacy", "haven.privacy.cli:privacy_app"),),
    data=("haven.core.data_inventory",),
)
