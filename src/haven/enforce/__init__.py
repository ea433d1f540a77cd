"""Enforcement: actions by signed webhooks, strikes and the ladder, statements of reasons,
notices, appeals, and the DSA Transparency Database export.

Other capabilities use only what is exported here.
"""

from haven.core.capability import Capability
from haven.enforce.webhooks import ACTION_TYPES, deliver, sign, verify

__all__ = ["ACTION_TYPES", "deliver", "sign", "verify"]

CAPABILITY = Capability(
    name="enforce",
    summary="Actions by webhook, strikes and the ladder, statements of reasons, user notices, appeals.",
    routers=("haven.enforce.api:router", "haven.enforce.notices.api:router"),
    pages=("haven.enforce.pages:router",),
    models=("haven.enforce.models", "haven.enforce.notices.models"),
    data=("haven.enforce.data_inventory", "haven.enforce.notices.data_inventory"),
    jobs=("haven.enforce.jobs",),
    subscribers=("haven.enforce.subscribers",),
    cli=(
        ("webhook", "haven.enforce.cli:webhook_app"),
        ("dsa", "haven.enforce.cli:dsa_app"),
        ("appeal", "haven.enforce.cli:appeal_app"),
        ("reporter", "haven.enforce.cli:reporter_app"),
        ("notice", "haven.enforce.cli:notice_app"),
        ("ladder", "haven.enforce.cli:ladder_app"),
    ),
)
