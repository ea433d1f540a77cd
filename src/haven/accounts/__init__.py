"""Accounts: the service's accounts as Haven knows them (by the service's own ids), their age
bands, who contacted and who blocked whom. Age assurance and parental controls build on this."""

from haven.core.capability import Capability

CAPABILITY = Capability(
    name="accounts",
    summary="The service's accounts, age bands, contacts and blocks.",
    routers=("haven.accounts.api:router",),
    models=("haven.accounts.models",),
    data=("haven.accounts.data_inventory",),
)
