"""The public safety centre (`/safety`) and the hosted report form (`/report`): no sign-in, no
JavaScript, no trackers, nothing loaded from another host, localised (haven.core.i18n, domain
`safety`). The form files through the same service function as `POST /v1/reports`."""

from haven.core.capability import Capability

CAPABILITY = Capability(
    name="safety",
    summary="Public safety centre for teens, parents and educators, and the hosted report form.",
    routers=("haven.safety.pages:router",),
)
