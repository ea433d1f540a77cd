"""Terms of service: versions published with an effective date, public pages, and the accounts'
acceptances. Rule sets name the terms version they enforce."""

from haven.core.capability import Capability

CAPABILITY = Capability(
    name="terms",
    summary="Terms of service: versions, public pages, acceptances.",
    routers=("haven.terms.api:router",),
    models=("haven.terms.models",),
    data=("haven.terms.data_inventory",),
    cli=(("terms", "haven.terms.cli:terms_app"),),
)
