"""Cross-industry sharing: hash lists in from NCMEC, StopNCII, ThreatExchange and other Havens
(with checkpoints, provenance and deletions), retroaction against past uploads, feedback to the
providers, and Haven's own confirmed hashes out as a signed feed (docs/exchange.md)."""

from haven.core.capability import Capability

CAPABILITY = Capability(
    name="exchange",
    summary="Hash lists in from the industry, retroaction, feedback and confirmed hashes out.",
    routers=("haven.exchange.api:router",),
    pages=("haven.exchange.pages:router",),
    models=("haven.exchange.models",),
    data=("haven.exchange.data_inventory",),
    jobs=("haven.exchange.jobs", "haven.exchange.feedback"),
    subscribers=("haven.exchange.retro", "haven.exchange.feedback"),
    cli=(("exchange", "haven.exchange.cli:exchange_app"),),
)
