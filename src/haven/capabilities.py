"""The one list of Haven's capabilities. The API, the worker, the command line and Alembic's
model import iterate over it; a new capability adds its manifest (`CAPABILITY` in its
`__init__.py`) and one line here."""

from __future__ import annotations

from haven.accounts import CAPABILITY as ACCOUNTS
from haven.banks import CAPABILITY as BANKS
from haven.classify import CAPABILITY as CLASSIFY
from haven.console import CAPABILITY as CONSOLE
from haven.core.capability import Capability
from haven.cybertip import CAPABILITY as CYBERTIP
from haven.enforce import CAPABILITY as ENFORCE
from haven.evidence import CAPABILITY as EVIDENCE
from haven.finance import CAPABILITY as FINANCE
from haven.intake import CAPABILITY as INTAKE
from haven.legal import CAPABILITY as LEGAL
from haven.review import CAPABILITY as REVIEW
from haven.screening import CAPABILITY as SCREENING
from haven.staff import CAPABILITY as STAFF
from haven.terms import CAPABILITY as TERMS

#: In the order their routes are mounted and their commands listed.
CAPABILITIES: tuple[Capability, ...] = (
    INTAKE,
    BANKS,
    ACCOUNTS,
    TERMS,
    SCREENING,
    CLASSIFY,
    ENFORCE,
    FINANCE,
    CYBERTIP,
    EVIDENCE,
    LEGAL,
    CONSOLE,
    REVIEW,
    STAFF,
)
