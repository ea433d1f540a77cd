"""The data inventory as code: every table and every column Haven stores, declared once.

Each capability declares its own tables in a `data_inventory` module of its own folder, named in
its manifest (`Capability.data`), as a `DATA` tuple of `TableData`. A declaration says why the
table exists (purpose), on what legal basis, how long its rows are kept and what happens at the
end (delete, pseudonymise, aggregate, or keep while a named condition holds), which data class
(retention sweep, `haven.privacy.classes`) enforces that, which columns are personal data and
what each is, and which columns are not personal. Every column must be in one of the two lists:
`tests/privacy/test_inventory.py` reads the real models (`Base.metadata`) and fails on a column
nobody declared, so a new column cannot slip in without someone saying what it is and how long
it is kept. `docs/data-inventory.md` is generated from these declarations
(`python -m haven.privacy.docs`).

This module lives in `core` (it imports nothing but the standard library) so any capability can
declare without importing the privacy capability.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

End = Literal["delete", "pseudonymise", "aggregate", "scrub", "keep"]

#: Legal bases, short names used in the declarations (GDPR Art 6(1) letters, and 9/10 where data
#: of special category or about offences is involved).
BASES: dict[str, str] = {
    "legal_obligation": "Art 6(1)(c): legal obligation (reporting to NCMEC, DSA notices and statements, preservation)",
    "legitimate_interests": "Art 6(1)(f): legitimate interests of the service and of children in a safe service",
    "contract": "Art 6(1)(b): performance of the service's terms with the account holder",
    "vital_interests": "Art 6(1)(d): vital interests of a child at imminent risk",
    "staff_contract": "Art 6(1)(b): employment or engagement of the staff member",
    "none": "no personal data",
}


@dataclass(frozen=True)
class TableData:
    """One table's declaration."""

    table: str
    purpose: str
    basis: str
    #: How long a row (or its personal fields) is kept, in words: "30 days after the last message".
    retention: str
    end: End
    #: column -> what personal data it holds. Empty for a table without personal data.
    personal: dict[str, str] = field(default_factory=dict)
    #: The remaining columns, space-separated: declared as not personal data.
    other: str = ""
    #: The retention sweep (`haven.privacy.classes`) that enforces `retention`, if one does.
    data_class: str | None = None
    #: Columns that identify the account a row is about (a data-subject request reads these).
    subject: tuple[str, ...] = ()
    #: Why some personal fields are never given out in an access request, by field.
    withheld: dict[str, str] = field(default_factory=dict)
    #: Who may see the personal fields (roles, or "the service via the API").
    access: str = "admin"

    @property
    def other_columns(self) -> tuple[str, ...]:
        return tuple(self.other.split())

    def declared(self) -> set[str]:
        return set(self.personal) | set(self.other_columns)


def undeclared(declarations: list[TableData], tables: dict[str, list[str]]) -> dict[str, list[str]]:
    """Per table, the columns the models have that no declaration names (a table without any
    declaration lists all its columns). Pure, so the test and the CLI share it."""
    by_table = {d.table: d for d in declarations}
    missing: dict[str, list[str]] = {}
    for table, columns in tables.items():
        decl = by_table.get(table)
        names = decl.declared() if decl else set()
        gap = [c for c in columns if c not in names]
        if gap:
            missing[table] = gap
    return missing


def stale(declarations: list[TableData], tables: dict[str, list[str]]) -> dict[str, list[str]]:
    """Declared columns (or tables) the models no longer have: the inventory must not lie either."""
    out: dict[str, list[str]] = {}
    for d in declarations:
        columns = tables.get(d.table)
        if columns is None:
            out[d.table] = ["(table)"]
            continue
        gone = sorted(d.declared() - set(columns))
        if gone:
            out[d.table] = gone
    return out
