"""Data-subject requests over the inventory: access (a machine-readable export) and erasure.

Both walk the declarations, not a hand-kept list: a table whose declaration names subject
columns is searched for the account; only its declared personal fields (and the row id) are
exported, minus the fields whose declaration says why they are withheld (law-enforcement
secrecy, a preserved CyberTipline report, another person's rights, staff privacy). An erasure
deletes or pseudonymises every such row unless a legal hold, a preserved report, an open
report case or an open law-enforcement request protects the account, and answers with what it
kept and why. Both are audited (`privacy.dsar_access`, `privacy.erasure`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Table, Text, delete, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from haven.core.clock import now
from haven.core.db import Base
from haven.core.events import CATALOGUE
from haven.core.inventory import TableData
from haven.core.ledger import audit
from haven.core.models import Event
from haven.core.settings import get_settings
from haven.privacy.inventory import declarations
from haven.privacy.protect import protected
from haven.privacy.sweeps import pseudonym, pseudonymise_event

#: Tables whose rows about a person are never exported to that person, with the reason; their
#: existence is not even confirmed (18 U.S.C. 2258A; a nondisclosure order).
WITHHELD_TABLES: dict[str, str] = {
    "legal_requests": "law-enforcement secrecy: requests about an account are not disclosed to it",
    "notice_holds": "law-enforcement secrecy: a hold of notices is not disclosed to the account",
    "evidence_holds": "law-enforcement secrecy and preserved reports: holds are not disclosed",
    "evidence_objects": "a preserved CyberTipline report's evidence is not disclosed to the reported person",
    "report_cases": "a CyberTipline report is not disclosed to the reported person",
}


def withheld_table(decl: TableData) -> str | None:
    """Why a whole table is neither given nor confirmed to its subject: a table named in
    WITHHELD_TABLES, or one whose subject column is itself withheld (a capability declares that
    in its inventory, e.g. finance's SAR exports: tipping-off)."""
    if decl.table in WITHHELD_TABLES:
        return WITHHELD_TABLES[decl.table]
    for column in decl.subject:
        if column in decl.withheld:
            return decl.withheld[column]
    return None


def _rows(session: Session, decl: TableData, account_id: str) -> list[dict[str, Any]]:
    """Rows of the table whose subject columns name the account (JSON lists narrowed with a
    text match, then checked exactly)."""
    table: Table = Base.metadata.tables[decl.table]
    conds: list[ColumnElement[bool]] = []
    for name in decl.subject:
        col = table.c[name]
        if isinstance(col.type, JSON):
            conds.append(col.cast(Text).like(f'%"{account_id}"%'))
        else:
            conds.append(col == account_id)
    out = []
    for row in session.execute(select(table).where(or_(*conds))).mappings():
        if any(row[c] == account_id or (isinstance(row[c], list) and account_id in row[c]) for c in decl.subject):
            out.append(dict(row))
    return out


def _jsonable(v: Any) -> Any:
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def _key(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def access(session: Session, account_id: str, *, actor: str) -> dict[str, Any]:
    """What Haven holds about the account, by table, with the withheld classes and why."""
    data: dict[str, list[dict[str, Any]]] = {}
    withheld: list[dict[str, str]] = []
    for decl in declarations():
        if not decl.subject:
            continue
        rows = _rows(session, decl, account_id)
        if not rows:
            continue
        if withheld_table(decl):
            # Said as a class, never confirmed per row: the reason is given whether or not rows exist.
            continue
        table = Base.metadata.tables[decl.table]
        fields = [f for f in decl.personal if f not in decl.withheld]
        data[decl.table] = [{k: _jsonable(r[k]) for k in [*_key(table), *fields] if k in r} for r in rows]
        for f, why in decl.withheld.items():
            withheld.append({"table": decl.table, "field": f, "reason": why})
    for decl in declarations():
        whole = withheld_table(decl)
        if whole:
            withheld.append({"table": decl.table, "field": "*", "reason": whole})
    ledger = ledger_events(session, account_id)
    withheld.append({"table": "events", "field": "*", "reason": LEDGER_WITHHELD})
    audit(
        session,
        actor=actor,
        action="privacy.dsar_access",
        object_type="account",
        object_id=account_id,
        purpose="data_subject_request",
        details={"tables": sorted(data), "rows": sum(len(v) for v in data.values()), "ledger": len(ledger)},
    )
    return {
        "account_id": account_id,
        "generated_at": now().isoformat(),
        "data": data,
        "ledger": ledger,
        "withheld": withheld,
    }


#: Why the rest of the ledger is not given (said whether or not such events exist).
LEDGER_WITHHELD = (
    "ledger events about detection, reports, reviews and investigations are not disclosed to the account "
    "(crime prevention, GDPR Art. 23(1)(d); 18 U.S.C. 2258A; tipping-off); the events shown are those the "
    "person is told anyway (age results, protections, strikes, terms, safety messages)"
)


def ledger_events(session: Session, account_id: str) -> list[dict[str, Any]]:
    """The ledger's events about the account whose type the catalogue marks `disclosed`: type,
    time and payload (never the actor: staff privacy), oldest first."""
    types = sorted(t.name for t in CATALOGUE.values() if t.disclosed)
    rows = session.scalars(
        select(Event)
        .where(Event.subject_type == "account", Event.subject_id == account_id, Event.type.in_(types))
        .order_by(Event.created_at, Event.id)
    )
    return [{"id": e.id, "type": e.type, "at": _jsonable(e.created_at), "data": e.data or {}} for e in rows]


#: Reasons that keep everything about the account (a preservation order covers its records).
ACCOUNT_WIDE = frozenset({"legal_hold", "open_law_enforcement_request"})


def _row_kept(session: Session, table: str, row: dict[str, Any], content: dict[str, set[str]]) -> str | None:
    """Why this one row must stay although the account is not wholly protected, or None."""
    from haven.classify.models import Conversation

    if table == "content_items" and row["id"] in content:
        return sorted(content[row["id"]])[0]
    if table in ("conversation_messages", "conversations"):
        conv = session.get(Conversation, row.get("conversation_id") or row["id"])
        if conv is not None and conv.preserved:
            return "preserved_conversation"
    return None


def erase(session: Session, account_id: str, *, actor: str) -> dict[str, Any]:
    """Erase or pseudonymise what Haven holds about the account; keep what law or a case needs
    (a legal hold or an open law-enforcement request: everything; a preserved report or an open
    report case: the report, its evidence and the content in it; a preserved conversation: its
    messages), and say what was kept and why."""
    settings = get_settings()
    keep = protected(session)
    reasons = sorted(keep.accounts.get(account_id, set()))
    account_wide = sorted(set(reasons) & ACCOUNT_WIDE)
    erased: dict[str, dict[str, int]] = {}
    kept: list[dict[str, Any]] = []
    alias = pseudonym(settings, account_id)
    for decl in declarations():
        if not decl.subject:
            continue
        rows = _rows(session, decl, account_id)
        if not rows:
            continue
        if account_wide or withheld_table(decl):
            kept.append({"table": decl.table, "rows": len(rows), "reasons": account_wide or reasons or ["law"]})
            continue
        table = Base.metadata.tables[decl.table]
        pk = _key(table)
        held: dict[str, int] = {}
        todo = []
        for r in rows:
            why = _row_kept(session, decl.table, r, keep.content)
            if why:
                held[why] = held.get(why, 0) + 1
            else:
                todo.append(r)
        for why, n in held.items():
            kept.append({"table": decl.table, "rows": n, "reasons": [why]})
        if not todo:
            continue
        if decl.end == "delete" or set(decl.subject) & set(pk):
            # A key cannot be pseudonymised without breaking what refers to it: the row goes.
            for r in todo:
                session.execute(delete(table).where(*[table.c[k] == r[k] for k in pk]))
            erased[decl.table] = {"deleted": len(todo)}
            continue
        # Pseudonymise: subject columns get the alias, other nullable personal fields are cleared.
        for r in todo:
            values: dict[str, Any] = {}
            for f in decl.personal:
                if f in pk:
                    continue
                if f in decl.subject:
                    values[f] = [alias if x == account_id else x for x in r[f]] if isinstance(r[f], list) else alias
                elif table.c[f].nullable:
                    values[f] = None
            if values:
                session.execute(update(table).where(*[table.c[k] == r[k] for k in pk]).values(**values))
        erased[decl.table] = {"pseudonymised": len(todo)}
    # The ledger: events about the account are pseudonymised as the 365-day sweep would (their
    # type and time stay for the transparency counts), unless the account is protected for any
    # reason (the sweep keeps those too: the record of what was decided about a reported account).
    events = session.scalars(select(Event).where(Event.subject_type == "account", Event.subject_id == account_id)).all()
    if events and reasons:
        kept.append({"table": "events", "rows": len(events), "reasons": reasons})
    elif events:
        for e in events:
            pseudonymise_event(settings, e)
        erased["events"] = {"pseudonymised": len(events)}
    audit(
        session,
        actor=actor,
        action="privacy.erasure",
        object_type="account",
        object_id=account_id,
        purpose="data_subject_request",
        details={"erased": erased, "kept": kept},
    )
    return {"account_id": account_id, "erased": erased, "kept": kept, "complete": not kept}
