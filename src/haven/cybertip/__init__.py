"""CyberTipline reporting: report cases from confirmed decisions, the XML, the API client, the
persisted submission state machine, and a faithful local double of the API."""

from haven.core.capability import Capability

CAPABILITY = Capability(
    name="cybertip",
    summary="CyberTipline reports: cases from confirmed decisions, the XML, the client, the desk.",
    routers=("haven.cybertip.api:router",),
    pages=("haven.cybertip.pages:router",),
    models=("haven.cybertip.models",),
    data=("haven.cybertip.data_inventory",),
    jobs=("haven.cybertip.machine",),
    subscribers=("haven.cybertip.subscriber", "haven.cybertip.retention"),
    cli=(
        ("report", "haven.cybertip.cli:report_app"),
        ("dev", "haven.cybertip.cli:dev_app"),
    ),
)
