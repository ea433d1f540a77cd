"""Exchanges: configure, fetch from a checkpoint, apply additions/updates/deletions.

Each page is applied in one transaction together with the checkpoint that follows it, so a crash
between two pages resumes from the last applied page and re-delivered entries change nothing
(`exchange_entries` is unique per exchange, upstream id and signal type). A page with a bad
fingerprint (wrong length, malformed upstream XML/JSON, a tampered feed entry) is refused whole:
the error goes to the exchange's state, the checkpoint stays, nothing of it is applied.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter as Tally
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from haven.banks.formats import EntryIn, normalise, validate_signal
from haven.banks.models import Bank, BankEntry, Provenance
from haven.banks.service import add_entries, get_bank, set_entries_state
from haven.core.clock import new_id, now
from haven.core.db import Database
from haven.core.errors import Conflict, Invalid, NotFound
from haven.core.ledger import audit, record_event
from haven.core.outbound import BlockedAddress, check_url
from haven.core.secretbox import SecretError, seal, unseal
from haven.core.settings import get_settings
from haven.exchange import metrics
from haven.exchange.base import Connector, ExchangeError, Page
from haven.exchange.connectors import CREDENTIALS, KINDS, build, map_type
from haven.exchange.models import Exchange, ExchangeEntry, ExchangeList

log = logging.getLogger("haven.exchange")
TRUST_MODES = ("active", "quarantine")
QUARANTINE_REASON = "fetched from exchange '{name}' in quarantine mode: matches go to review until one is confirmed"


def _context(exchange_id: str) -> str:
    return f"exchange:{exchange_id}"


def seal_credentials(exchange: Exchange, credentials: Mapping[str, str], keys: list[bytes] | None = None) -> None:
    keys = keys or get_settings().secrets_keys()
    exchange.credentials_sealed = seal(json.dumps(dict(credentials)), keys[0], _context(exchange.id))


def credentials_of(exchange: Exchange, keys: list[bytes] | None = None) -> dict[str, str]:
    if not exchange.credentials_sealed:
        return {}
    try:
        raw = unseal(exchange.credentials_sealed, keys or get_settings().secrets_keys(), _context(exchange.id))
    except SecretError as exc:
        raise ExchangeError(str(exc), code="credentials_unreadable") from None
    return dict(json.loads(raw))


def connector_for(exchange: Exchange) -> Connector:
    return build(exchange.kind, exchange.base_url, credentials_of(exchange), exchange.config or {})


def get_exchange(session: Session, name_or_id: str) -> Exchange:
    row = session.get(Exchange, name_or_id) or session.scalar(select(Exchange).where(Exchange.name == name_or_id))
    if row is None:
        raise NotFound(f"no exchange '{name_or_id}'", code="exchange_not_found")
    return row


def create_exchange(
    session: Session,
    *,
    name: str,
    kind: str,
    base_url: str,
    credentials: Mapping[str, str],
    lists: Mapping[str, str],
    actor: str,
    config: Mapping[str, Any] | None = None,
    classifications: Mapping[str, str] | None = None,
    trust_mode: str = "active",
    fetch_interval_seconds: int = 3600,
    dispute_threshold: int = 3,
    enabled: bool = True,
) -> Exchange:
    """`lists` maps an upstream list name ("*" for all) to a bank name or id; `classifications`
    gives a list's classification (applied to its entries when the upstream sends none; the
    bank's default otherwise)."""
    name = name.strip()
    if not name or len(name) > 120:
        raise Invalid("an exchange needs a name of 1 to 120 characters", code="invalid_exchange_name")
    if kind not in KINDS:
        raise Invalid(f"unknown exchange kind '{kind}' (one of {', '.join(KINDS)})", code="unknown_exchange_kind")
    if trust_mode not in TRUST_MODES:
        raise Invalid(f"trust_mode must be one of {', '.join(TRUST_MODES)}", code="invalid_trust_mode")
    if fetch_interval_seconds < 60 or dispute_threshold < 1:
        raise Invalid("fetch interval is at least 60 s and the dispute threshold at least 1", code="invalid_exchange")
    unknown = set(credentials) - set(CREDENTIALS[kind])
    if unknown:
        raise Invalid(
            f"{kind} takes the credentials {', '.join(CREDENTIALS[kind])}, not {', '.join(sorted(unknown))}",
            code="invalid_credentials",
        )
    try:
        check_url(base_url)
    except BlockedAddress as exc:
        raise Invalid(f"base URL refused: {exc}", code=exc.code) from None
    if not lists:
        raise Invalid("map at least one upstream list to a bank (e.g. '*=ncmec-csam')", code="no_lists")
    classifications = dict(classifications or {})
    stray = sorted(set(classifications) - set(lists))
    if stray:
        raise Invalid(
            f"a classification for a list that is not mapped: {', '.join(stray)}", code="invalid_classification"
        )
    if any(not c.strip() or len(c) > 80 for c in classifications.values()):
        raise Invalid("a classification has 1 to 80 characters", code="invalid_classification")
    if session.scalar(select(Exchange.id).where(Exchange.name == name)) is not None:
        raise Conflict(f"an exchange named '{name}' exists", code="exchange_exists")
    exchange = Exchange(
        name=name,
        kind=kind,
        base_url=base_url.rstrip("/"),
        config=dict(config or {}),
        enabled=enabled,
        trust_mode=trust_mode,
        fetch_interval_seconds=fetch_interval_seconds,
        dispute_threshold=dispute_threshold,
        checkpoint={},
    )
    session.add(exchange)
    session.flush()
    seal_credentials(exchange, credentials)
    for list_name, bank_ref in lists.items():
        bank = get_bank(session, bank_ref)
        session.add(
            ExchangeList(
                exchange_id=exchange.id,
                list_name=list_name,
                bank_id=bank.id,
                classification=(classifications.get(list_name) or "").strip() or bank.default_classification,
            )
        )
    build(kind, exchange.base_url, credentials, exchange.config)  # refuses missing credentials/config now
    record_event(
        session,
        "exchange.created",
        subject_type="exchange",
        subject_id=exchange.id,
        actor=actor,
        data={"name": name, "kind": kind, "lists": dict(lists), "trust_mode": trust_mode},
    )
    audit(session, actor=actor, action="exchange.create", object_type="exchange", object_id=exchange.id)
    return exchange


def set_enabled(session: Session, exchange: Exchange, enabled: bool, *, actor: str) -> Exchange:
    exchange.enabled = enabled
    record_event(
        session,
        "exchange.enabled" if enabled else "exchange.disabled",
        subject_type="exchange",
        subject_id=exchange.id,
        actor=actor,
    )
    audit(
        session,
        actor=actor,
        action="exchange.enable" if enabled else "exchange.disable",
        object_type="exchange",
        object_id=exchange.id,
    )
    return exchange


def state(session: Session, exchange: Exchange) -> dict[str, Any]:
    """What the API, the CLI and the console show (never the credentials)."""
    lists = session.execute(
        select(ExchangeList.list_name, Bank.name, Bank.kind, ExchangeList.classification)
        .join(Bank, Bank.id == ExchangeList.bank_id)
        .where(ExchangeList.exchange_id == exchange.id)
    ).all()
    counts = dict(
        session.execute(
            select(ExchangeEntry.deleted_at.is_(None), func.count())
            .where(ExchangeEntry.exchange_id == exchange.id)
            .group_by(ExchangeEntry.deleted_at.is_(None))
        ).all()
    )
    unmatched = session.scalar(
        select(func.count()).where(
            ExchangeEntry.exchange_id == exchange.id, ExchangeEntry.unmatched_reason.is_not(None)
        )
    )
    return {
        "id": exchange.id,
        "name": exchange.name,
        "kind": exchange.kind,
        "base_url": exchange.base_url,
        "enabled": exchange.enabled,
        "trust_mode": exchange.trust_mode,
        "fetch_interval_seconds": exchange.fetch_interval_seconds,
        "dispute_threshold": exchange.dispute_threshold,
        "lists": [{"list": n, "bank": b, "bank_kind": k, "classification": c} for n, b, k, c in lists],
        "config": exchange.config,
        "has_credentials": bool(exchange.credentials_sealed),
        "checkpoint": exchange.checkpoint,
        "last_fetch_at": exchange.last_fetch_at.isoformat() if exchange.last_fetch_at else None,
        "last_success_at": exchange.last_success_at.isoformat() if exchange.last_success_at else None,
        "last_error": exchange.last_error,
        "last_error_code": exchange.last_error_code,
        "entries_in": exchange.entries_in,
        "entries_out": exchange.entries_out,
        "live_entries": int(counts.get(True, 0)),
        "deleted_entries": int(counts.get(False, 0)),
        "unmatched_entries": int(unmatched or 0),
    }


# --- applying a page ----------------------------------------------------------------------------


@dataclass
class Applied:
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unmatched: int = 0
    unrouted: int = 0
    skipped: int = 0
    new_bank_entries: list[str] = field(default_factory=list)

    def add(self, other: Applied) -> None:
        for f in ("added", "updated", "deleted", "unmatched", "unrouted", "skipped"):
            setattr(self, f, getattr(self, f) + getattr(other, f))
        self.new_bank_entries += other.new_bank_entries


@dataclass(frozen=True)
class Route:
    """Where one upstream list goes: its bank and the classification its entries get when the
    upstream gives none (the list's, else the bank's default)."""

    bank: Bank
    classification: str | None


def _routes(session: Session, exchange: Exchange) -> dict[str, Route]:
    rows = session.execute(
        select(ExchangeList.list_name, ExchangeList.classification, Bank)
        .join(Bank, Bank.id == ExchangeList.bank_id)
        .where(ExchangeList.exchange_id == exchange.id)
    ).all()
    return {n: Route(b, c or b.default_classification) for n, c, b in rows}


#: Upstream ids looked up per query (one query for any page of the documented sizes).
LOOKUP_CHUNK = 10_000
#: Rows per multi-row INSERT (19 columns: under SQLite's 32,766 and PostgreSQL's 65,535 binds).
INSERT_ROWS = 1_000


def apply_page(session: Session, exchange: Exchange, page: Page, *, actor: str) -> Applied:
    """Apply one page (in the caller's transaction) and store its checkpoint. Refuses the whole
    page, before writing anything, when one fingerprint does not validate.

    Written in bulk: the page's existing provenance rows are read in one query (columns, not ORM
    objects), new rows go in with one executemany insert, changed rows with one executemany
    update by primary key; bank entries are added per bank with `add_entries` (itself bulk)
    before the provenance rows, so those are inserted with their `bank_entry_id`."""
    routes = _routes(session, exchange)
    result = Applied(skipped=page.skipped)
    # 1. map and validate everything first: nothing is half-applied.
    prepared = []
    problems: list[str] = []
    for e in page.entries:
        stored_type, haven_type, reason = map_type(exchange.kind, e.upstream_type)
        value = e.value.strip()
        if haven_type is not None:
            value = normalise(EntryIn(haven_type, value)).value
            problem = validate_signal(haven_type, value)
            if problem:
                problems.append(f"{e.upstream_id}: {problem}")
                continue
        elif len(value) > 4096:
            problems.append(f"{e.upstream_id}: a {e.upstream_type} value longer than 4096 characters")
            continue
        prepared.append((e, stored_type, haven_type, reason, value))
    if problems:
        raise ExchangeError(
            f"{len(problems)} invalid fingerprint(s) in the page; first: {problems[0]}", code="invalid_fingerprint"
        )
    # 2. the page's existing provenance rows, in one query.
    cols = (ExchangeEntry.id, ExchangeEntry.upstream_id, ExchangeEntry.signal_type, ExchangeEntry.bank_entry_id)
    existing: dict[tuple[str, str], dict[str, Any]] = {}
    ids = sorted({e.upstream_id for e, *_ in prepared})
    for start in range(0, len(ids), LOOKUP_CHUNK):
        for row_id, up_id, st, be_id, deleted_at, disputed_at in session.execute(
            select(*cols, ExchangeEntry.deleted_at, ExchangeEntry.disputed_at).where(
                ExchangeEntry.exchange_id == exchange.id,
                ExchangeEntry.upstream_id.in_(ids[start : start + LOOKUP_CHUNK]),
            )
        ):
            existing[(up_id, st)] = {
                "id": row_id,
                "bank_entry_id": be_id,
                "deleted": deleted_at is not None,
                "disputed": disputed_at is not None,
            }
    stamp = now()
    to_disable: list[str] = []
    to_enable: list[str] = []
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    new_by_bank: dict[str, list[tuple[dict[str, Any], EntryIn]]] = {}
    banks: dict[str, Bank] = {}
    for e, stored, haven_type, reason, value in prepared:
        route = routes.get(e.list_name) or routes.get("*")
        old = existing.get((e.upstream_id, stored))
        if e.deleted:
            if old is not None and not old["deleted"]:
                old["deleted"] = True
                updates.append({"id": old["id"], "deleted_at": stamp, "updated_at": stamp})
                if old["bank_entry_id"]:
                    to_disable.append(old["bank_entry_id"])
                result.deleted += 1
            continue
        if route is None:
            result.unrouted += 1
            continue
        classification = e.classification or route.classification
        if old is not None:
            change: dict[str, Any] = {
                "id": old["id"],
                "labels": list(e.labels),
                "classification": classification,
                "updated_at": stamp,
                "expires_at": e.expires_at,
            }
            if old["deleted"]:  # re-added upstream
                old["deleted"] = False
                change["deleted_at"] = None
                if old["bank_entry_id"] and not old["disputed"]:
                    to_enable.append(old["bank_entry_id"])
            updates.append(change)
            result.updated += 1
            continue
        row: dict[str, Any] = {
            "id": new_id(),
            "exchange_id": exchange.id,
            "list_name": e.list_name,
            "upstream_id": e.upstream_id,
            "signal_type": stored,
            "upstream_type": e.upstream_type,
            "value": value,
            "bank_entry_id": None,
            "contributor": e.contributor,
            "classification": classification,
            "labels": list(e.labels),
            "unmatched_reason": reason,
            "fetched_at": stamp,
            "updated_at": stamp,
            "expires_at": e.expires_at,
            "deleted_at": None,
            "confirmed": 0,
            "overturned": 0,
            "disputed_at": None,
        }
        inserts.append(row)
        # The same (upstream id, type) twice in one page is one entry.
        existing[(e.upstream_id, stored)] = {
            "id": row["id"],
            "bank_entry_id": None,
            "deleted": False,
            "disputed": False,
        }
        result.added += 1
        if haven_type is None:
            result.unmatched += 1
            continue
        ref = f"{exchange.name}:{e.upstream_id}"[:400]
        banks[route.bank.id] = route.bank
        new_by_bank.setdefault(route.bank.id, []).append((row, EntryIn(haven_type, value, classification, ref)))
    # 3. bank entries first (bulk, per bank), so the provenance rows carry their bank_entry_id.
    for bank_id, items in new_by_bank.items():
        result.new_bank_entries += add_entries(session, banks[bank_id], [i for _, i in items], actor=actor)
        values = sorted({i.value for _, i in items})
        by_value: dict[tuple[str, str], str] = {}
        for start in range(0, len(values), LOOKUP_CHUNK):
            for st, v, be_id in session.execute(
                select(BankEntry.signal_type, BankEntry.value, BankEntry.id).where(
                    BankEntry.bank_id == bank_id,
                    BankEntry.variant_of.is_(None),
                    BankEntry.value.in_(values[start : start + LOOKUP_CHUNK]),
                )
            ):
                by_value[(st, v)] = be_id
        for row, item in items:
            row["bank_entry_id"] = by_value.get((item.signal_type, item.value))
    # 4. provenance rows: multi-row INSERT ... VALUES (one statement per 1,000 rows: PostgreSQL
    # gets one round trip, not one per row) and one executemany update per column set. Core
    # statements on the table: the ORM's bulk insert drops None values and splits the batch at
    # every change of key set (md5, pdq, pdna rows alternate), one statement per run.
    table = cast(Table, ExchangeEntry.__table__)
    for start in range(0, len(inserts), INSERT_ROWS):  # one multi-row INSERT ... VALUES per 1,000
        session.execute(insert(table).values(inserts[start : start + INSERT_ROWS]))
    for keys in sorted({tuple(sorted(u)) for u in updates}):
        rows = [{f"b_{k}": u[k] for k in keys} for u in updates if tuple(sorted(u)) == keys]
        stmt = update(table).where(table.c.id == bindparam("b_id"))
        session.execute(stmt.values({k: bindparam(f"b_{k}") for k in keys if k != "id"}), rows)
    # Deletions disable a bank entry only when no other live provenance still holds it.
    if to_disable:
        still = set(
            session.scalars(
                select(ExchangeEntry.bank_entry_id).where(
                    ExchangeEntry.bank_entry_id.in_(to_disable), ExchangeEntry.deleted_at.is_(None)
                )
            )
        )
        set_entries_state(session, [i for i in to_disable if i not in still], enabled=False, actor=actor)
    set_entries_state(session, to_enable, enabled=True, actor=actor)
    if exchange.trust_mode == "quarantine" and result.new_bank_entries:
        set_entries_state(
            session,
            result.new_bank_entries,
            quarantine_reason=QUARANTINE_REASON.format(name=exchange.name),
            actor=actor,
        )
    exchange.checkpoint = dict(page.checkpoint)
    exchange.entries_in += result.added + result.updated
    exchange.entries_out += result.deleted
    return result


def _record_failure(db: Database, exchange_id: str, exc: ExchangeError, *, actor: str) -> None:
    with db.session() as s:
        ex = s.get(Exchange, exchange_id)
        if ex is None:
            return
        ex.last_fetch_at = now()
        ex.last_error, ex.last_error_code = exc.message[:2000], exc.code
        record_event(
            s,
            "exchange.fetch_failed",
            subject_type="exchange",
            subject_id=ex.id,
            actor=actor,
            data={"code": exc.code, "message": exc.message[:500]},
        )
    metrics.FETCH_FAILURES.labels(exc.code).inc()


def fetch(
    db: Database,
    exchange_id: str,
    *,
    actor: str = "system:exchange",
    max_pages: int | None = None,
    connector: Connector | None = None,
) -> dict[str, Any]:
    """Fetch pages from the stored checkpoint until the provider has no more (or `max_pages`),
    each page in its own transaction with its checkpoint. Returns the totals; a failure is
    recorded in the exchange's state (and re-raised as `ExchangeError`)."""
    with db.session() as s:
        ex = get_exchange(s, exchange_id)
        exchange_id, name, kind = ex.id, ex.name, ex.kind
        failure: ExchangeError | None = None
        try:
            conn = connector or connector_for(ex)
        except ExchangeError as exc:
            failure = exc
    if failure is not None:
        _record_failure(db, exchange_id, failure, actor=actor)
        raise failure
    totals = Applied()
    pages = 0
    started = time.perf_counter()
    while True:
        with db.session() as s:
            checkpoint = dict(get_exchange(s, exchange_id).checkpoint or {})
        try:
            page = conn.fetch_page(checkpoint)
            with db.session() as s:
                ex = get_exchange(s, exchange_id)
                applied = apply_page(s, ex, page, actor=actor)
                ex.last_fetch_at = now()
                if not page.has_more:
                    ex.last_success_at = ex.last_fetch_at
                    ex.last_error = ex.last_error_code = None
        except ExchangeError as exc:
            _record_failure(db, exchange_id, exc, actor=actor)
            raise
        totals.add(applied)
        pages += 1
        metrics.ENTRIES_FETCHED.labels(kind).inc(applied.added + applied.updated + applied.deleted)
        if not page.has_more or (max_pages is not None and pages >= max_pages):
            break
    seconds = time.perf_counter() - started
    summary = {
        "pages": pages,
        "added": totals.added,
        "updated": totals.updated,
        "deleted": totals.deleted,
        "unmatched": totals.unmatched,
        "unrouted": totals.unrouted,
        "skipped": totals.skipped,
        "complete": not page.has_more,
        "seconds": round(seconds, 3),
    }
    with db.session() as s:
        record_event(s, "exchange.fetched", subject_type="exchange", subject_id=exchange_id, actor=actor, data=summary)
    log.info("exchange fetched", extra={"exchange": name, **{k: v for k, v in summary.items() if k != "seconds"}})
    return summary


def due_exchanges(session: Session) -> list[str]:
    """Enabled exchanges whose interval has passed since their last fetch."""
    t = now()
    out = []
    for ex in session.scalars(select(Exchange).where(Exchange.enabled.is_(True))):
        last = ex.last_fetch_at
        if last is None or (t - last).total_seconds() >= ex.fetch_interval_seconds:
            out.append(ex.id)
    return out


def provenance_counts(session: Session, exchange_id: str) -> dict[str, int]:
    rows = session.scalars(select(ExchangeEntry.signal_type).where(ExchangeEntry.exchange_id == exchange_id))
    return dict(Tally(rows))


#: Banks fed by an exchange record it (`Provenance.exchange`) when they are created for one.
EXCHANGE_PROVENANCE = Provenance.exchange.value
