"""Imports every capability's tables so that Alembic and tests see the whole schema.

Each capability adds one import line here when it adds tables.
"""

import haven.subscribers  # noqa: F401  (subscribers must be registered wherever events are recorded)
from haven.accounts import models as accounts_models
from haven.banks import models as banks_models
from haven.classify import models as classify_models
from haven.core import models as core_models
from haven.core.db import Base
from haven.cybertip import models as report_models
from haven.enforce import models as enforce_models
from haven.enforce.notices import models as user_report_models
from haven.evidence import models as evidence_models
from haven.legal import models as legal_models
from haven.review import models as review_models
from haven.screening import models as screening_models
from haven.staff import models as staff_models
from haven.terms import models as terms_models

__all__ = [
    "Base",
    "accounts_models",
    "banks_models",
    "classify_models",
    "core_models",
    "enforce_models",
    "evidence_models",
    "legal_models",
    "report_models",
    "review_models",
    "screening_models",
    "staff_models",
    "terms_models",
    "user_report_models",
]
