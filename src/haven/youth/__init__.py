"""Youth: age assurance (signals, results only, and the assured age derived from them), minors'
default protections per region and band, the social graph the service tells Haven, re-assurance
requests, and parental controls with the teen's consent (docs/youth.md)."""

from haven.core.capability import Capability

CAPABILITY = Capability(
    name="youth",
    summary="Age assurance, minors' default protections and parental controls with the teen's consent.",
    routers=("haven.youth.api:router", "haven.youth.providers_api:router"),
    pages=("haven.youth.pages:router",),
    models=("haven.youth.models",),
    data=("haven.youth.data_inventory",),
    subscribers=("haven.youth.subscribers",),
    cli=(("youth", "haven.youth.cli:youth_app"),),
)
