"""The doors for media: uploads and hash lookups, and messages of conversations."""

from haven.core.capability import Capability

CAPABILITY = Capability(
    name="intake",
    summary="The doors for media: uploads and hash lookups, and messages of conversations.",
    models=("haven.intake.models",),
    data=("haven.intake.data_inventory",),
    routers=("haven.intake.api:router", "haven.intake.messages_api:router"),
)
