"""Who acts: staff (with roles), an integration, the CLI operator, or the system itself.

The audit log and ledger store `Actor.ref`; authorisation checks use roles. Staff accounts
and sign-in live in `haven.staff`; this is only the shared vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: Staff roles. child_safety_reviewer may see child-safety queues and media; senior handles
#: escalations, appeals and second opinions; legal handles reports and law-enforcement requests;
#: admin manages staff, settings and banks.
ROLES = ("reviewer", "child_safety_reviewer", "senior", "legal", "privacy", "admin")
#: What people read for each role (pages, training); the identifiers above stay for the CLI and API.
ROLE_LABELS = {
    "reviewer": "reviewer",
    "child_safety_reviewer": "child-safety reviewer",
    "senior": "senior reviewer",
    "legal": "legal",
    "privacy": "privacy",
    "admin": "administrator",
}

ActorKind = Literal["staff", "integration", "cli", "system"]


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def ref(self) -> str:
        """The string stored in audit and ledger records, e.g. `staff:01H...`."""
        return f"{self.kind}:{self.id}"

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


SYSTEM = Actor("system", "haven")
CLI = Actor("cli", "operator", frozenset(ROLES))
