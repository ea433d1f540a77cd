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
from haven.exchange import CAPABILITY as EXCHANGE
from haven.finance import CAPABILITY as FINANCE
from haven.intake import CAPABILITY as INTAKE
from haven.legal import CAPABILITY as LEGAL
from haven.privacy import CAPABILITY as PRIVACY
from haven.review import CAPABILITY as REVIEW
from haven.safety import CAPABILITY as SAFETY
from haven.screening import CAPABILITY as SCREENING
from haven.staff import CAPABILITY as STAFF
from haven.streams import CAPABILITY as STREAMS
from haven.terms import CAPABILITY as TERMS
from haven.transparency import CAPABILITY as TRANSPARENCY
from haven.youth import CAPABILITY as YOUTH

#: In the order their routes are mounted and their commands listed.
CAPABILITIES: tuple[Capability, ...] = (
    INTAKE,
    BANKS,
    EXCHANGE,
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
    YOUTH,
    TRANSPARENCY,
    SAFETY,
    PRIVACY,
    STREAMS,
)
