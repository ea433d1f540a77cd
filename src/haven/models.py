"""Imports every capability's tables so that Alembic and tests see the whole schema.

Each capability adds one import line here when it adds tables.
"""

import haven.subscribers  # noqa: F401  (subscribers must be registered wherever events are recorded)
from haven.banks import models as banks_models
from haven.classify import models as classify_models
from haven.core import models as core_models
from haven.core.db import Base
from haven.intake import models as intake_models

__all__ = ["Base", "banks_models", "classify_models", "core_models", "intake_models"]
