"""Enforcement: actions by signed webhooks, strikes and the ladder, statements of reasons,
notices, appeals, and the DSA Transparency Database export.

Other capabilities use only what is exported here.
"""

from haven.enforce.webhooks import ACTION_TYPES, deliver, sign, verify

__all__ = ["ACTION_TYPES", "deliver", "sign", "verify"]
