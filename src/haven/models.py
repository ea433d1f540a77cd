"""Imports every capability's tables and ledger subscribers, so that Alembic, the API, the worker
and the tests all see the whole schema and every consumer of events (an event recorded by a
process that does not know a subscriber would queue no job for it).

The modules come from the capabilities' manifests (`haven.capabilities`); nothing is listed here.
"""

from haven.capabilities import CAPABILITIES
from haven.core import models as core_models
from haven.core.capability import load
from haven.core.db import Base

for _cap in CAPABILITIES:
    for _ref in (*_cap.models, *_cap.subscribers):
        load(_ref)

__all__ = ["Base", "core_models"]
