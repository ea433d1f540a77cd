"""Banks and their entries: the operations behind the API, the CLI and other capabilities.

Every change bumps the banks' change counter and stamps the changed entries, so each API
process's matcher picks it up without a rebuild (see `haven.banks.runtime`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from haven.banks.formats import EntryIn, check_batches
from haven.banks.models import CLASSIFICATIONS, Bank, BankEntry, BankKind, DeletedEntry, Match, Provenance
from haven.banks.runtime import COUNTER
from haven.core.clock import new_id, now
from haven.core.errors import Conflict, HavenError, Invalid, NotFound
from haven.core.ledger import audit, record_event
from haven.core.models import Counter
from haven.signals.crypto import crypto_hashes
from haven.signals.image import bank_variants, sniff_media_kind
from haven.signals.robust import Robustness, keep_for_level, variant_level

KINDS = tuple(k.value for k in BankKind)
PROVENANCES = tuple(p.value for p in Provenance)
ROBUSTNESS = tuple(r.value for r in Robustness)
BANK_ENTRIES: Table = BankEntry.__table__  # type: ignore[assignment]
#: Entries per statement of an import (the duplicate check binds one parameter per value).
IMPORT_BATCH = 5000


def bump_counter(session: Session) -> int:
    """Increment the banks' change counter in the caller's transaction and return the new value."""
    value = session.execute(
        update(Counter).where(Counter.name == COUNTER).values(value=Counter.value + 1).returning(Counter.value)
    ).scalar()
    if value is None:
        session.add(Counter(name=COUNTER, value=1))
        session.flush()
        return 1
    return int(value)


def _check_bank_fields(
    kind: str | None, threshold: int | None, classification: str | None, robustness: str | None = None
) -> None:
    if robustness is not None and robustness not in ROBUSTNESS:
        raise Invalid(f"robustness must be one of {', '.join(ROBUSTNESS)}", code="invalid_robustness")
    if kind is not None and kind not in KINDS:
        raise Invalid(f"unknown bank kind '{kind}' (one of {', '.join(KINDS)})", code="unknown_bank_kind")
    if threshold is not None and not 0 <= threshold <= 128:
        raise Invalid("pdq_threshold must be between 0 and 128 (31 is the PDQ default)", code="invalid_threshold")
    if classification is not None and len(classification) > 80:
        raise Invalid("classification is longer than 80 characters", code="invalid_classification")


def create_bank(
    session: Session,
    *,
    name: str,
    kind: str,
    actor: str,
    description: str = "",
    default_classification: str | None = None,
    pdq_threshold: int = 31,
    provenance: str = "manual",
    enabled: bool = True,
    robustness: str = Robustness.strong.value,
) -> Bank:
    name = name.strip()
    if not name or len(name) > 200:
        raise Invalid("a bank needs a name of 1 to 200 characters", code="invalid_bank_name")
    _check_bank_fields(kind, pdq_threshold, default_classification, robustness)
    if provenance not in PROVENANCES:
        raise Invalid(f"unknown provenance '{provenance}' (one of {', '.join(PROVENANCES)})", code="invalid_provenance")
    if session.scalar(select(Bank.id).where(Bank.name == name)) is not None:
        raise Conflict(f"a bank named '{name}' exists", code="bank_exists")
    bank = Bank(
        name=name,
        kind=kind,
        description=description,
        default_classification=default_classification,
        pdq_threshold=pdq_threshold,
        provenance=provenance,
        enabled=enabled,
        robustness=robustness,
    )
    session.add(bank)
    session.flush()
    record_event(
        session, "bank.created", subject_type="bank", subject_id=bank.id, actor=actor, data={"name": name, "kind": kind}
    )
    audit(session, actor=actor, action="bank.create", object_type="bank", object_id=bank.id)
    return bank


def get_bank(session: Session, name_or_id: str) -> Bank:
    bank = session.get(Bank, name_or_id) or session.scalar(select(Bank).where(Bank.name == name_or_id))
    if bank is None:
        raise NotFound(f"no bank '{name_or_id}'", code="bank_not_found")
    return bank


def list_banks(session: Session) -> list[tuple[Bank, int]]:
    """Every bank with its number of enabled entries."""
    counts = dict(
        session.execute(
            select(BankEntry.bank_id, func.count()).where(BankEntry.enabled.is_(True)).group_by(BankEntry.bank_id)
        ).all()
    )
    banks = session.scalars(select(Bank).order_by(Bank.name))
    return [(b, int(counts.get(b.id, 0))) for b in banks]


def update_bank(session: Session, bank: Bank, changes: dict[str, Any], *, actor: str) -> Bank:
    allowed = {"name", "description", "kind", "default_classification", "pdq_threshold", "enabled", "robustness"}
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid(f"cannot change {', '.join(sorted(unknown))}", code="invalid_change")
    _check_bank_fields(
        changes.get("kind"),
        changes.get("pdq_threshold"),
        changes.get("default_classification"),
        changes.get("robustness"),
    )
    renamed = "name" in changes and changes["name"] != bank.name
    if renamed and session.scalar(select(Bank.id).where(Bank.name == changes["name"])) is not None:
        raise Conflict(f"a bank named '{changes['name']}' exists", code="bank_exists")
    before = {k: getattr(bank, k) for k in changes}
    for key, value in changes.items():
        setattr(bank, key, value)
    # Anything the matcher caches about the bank's entries: restamp them all.
    if {"kind", "default_classification", "pdq_threshold", "enabled"} & set(changes):
        seq = bump_counter(session)
        session.execute(update(BankEntry).where(BankEntry.bank_id == bank.id).values(change_seq=seq))
    if "robustness" in changes:
        _drop_variants_above(session, bank)
    record_event(
        session,
        "bank.updated",
        subject_type="bank",
        subject_id=bank.id,
        actor=actor,
        data={"before": before, "after": changes},
    )
    audit(
        session,
        actor=actor,
        action="bank.update",
        object_type="bank",
        object_id=bank.id,
        details={"before": before, "after": changes},
    )
    return bank


def _drop_variants_above(session: Session, bank: Bank) -> None:
    """Delete the bank's derived variants its robustness level no longer keeps (with tombstones,
    so API processes drop them). Raising the level applies to media banked afterwards: Haven does
    not keep banked media to hash again."""
    level = list(Robustness).index(Robustness(bank.robustness or Robustness.strong))
    rows = session.execute(
        select(BankEntry.id, BankEntry.variant).where(BankEntry.bank_id == bank.id, BankEntry.variant_of.is_not(None))
    ).all()
    drop = [i for i, name in rows if level == 0 or list(Robustness).index(variant_level(name or "")) > level]
    if not drop:
        return
    seq = bump_counter(session)
    for start in range(0, len(drop), 5000):
        chunk = drop[start : start + 5000]
        session.execute(insert(DeletedEntry), [{"entry_id": i, "change_seq": seq} for i in chunk])
        session.execute(delete(BankEntry).where(BankEntry.id.in_(chunk)))


def delete_bank(session: Session, bank: Bank, *, actor: str) -> None:
    seq = bump_counter(session)
    ids = list(session.scalars(select(BankEntry.id).where(BankEntry.bank_id == bank.id)))
    for chunk_start in range(0, len(ids), 5000):
        chunk = ids[chunk_start : chunk_start + 5000]
        session.execute(insert(DeletedEntry), [{"entry_id": i, "change_seq": seq} for i in chunk])
    session.execute(delete(BankEntry).where(BankEntry.bank_id == bank.id))
    record_event(
        session,
        "bank.deleted",
        subject_type="bank",
        subject_id=bank.id,
        actor=actor,
        data={"name": bank.name, "entries": len(ids)},
    )
    audit(
        session,
        actor=actor,
        action="bank.delete",
        object_type="bank",
        object_id=bank.id,
        details={"name": bank.name, "entries": len(ids)},
    )
    session.delete(bank)


def add_entries(
    session: Session,
    bank: Bank,
    entries: Iterable[EntryIn],
    *,
    actor: str,
    variants: dict[int, list[tuple[str, str]]] | None = None,
) -> list[str]:
    """Add validated entries (duplicates of live entries in the bank are skipped); returns new ids.

    `variants` maps an entry's position to extra PDQ hashes (crops, bands, rotations) banked
    with it; only those the bank's robustness level keeps are stored.
    """
    return import_rows(session, bank, enumerate(entries, start=1), actor=actor, variants=variants).ids


@dataclass(frozen=True)
class Imported:
    """What an import added: `added` new entries of `read` lines (the rest were duplicates), and
    their ids unless the caller asked for the count only."""

    added: int
    read: int
    ids: list[str]


def import_rows(
    session: Session,
    bank: Bank,
    rows: Iterable[tuple[int, EntryIn | str]],
    *,
    actor: str,
    variants: dict[int, list[tuple[str, str]]] | None = None,
    keep_ids: bool = True,
) -> Imported:
    """Add entries streamed from an import file ((line, entry) rows, `formats.rows`), in batches:
    memory stays bounded by one batch (plus the new ids returned), and the duplicate check binds
    at most IMPORT_BATCH values per statement (SQLite allows 32,766 and PostgreSQL 65,535
    parameters). Rows inserted by earlier batches are in the transaction, so the check also finds
    duplicates within the file. A bad line anywhere raises after the whole file was read (every
    problem listed), and the caller's transaction rolls the earlier batches back: all-or-nothing.
    `keep_ids=False` keeps the count only: the ids of a 10M-line file are ~750 MB of strings.
    """
    seq: int | None = None
    stamp = now()
    new_ids: list[str] = []
    added = 0
    seen = 0
    robustness = bank.robustness or Robustness.strong
    for batch in check_batches(rows, IMPORT_BATCH):
        if seq is None:
            seq = bump_counter(session)
        lo = seen
        seen += len(batch)
        batches = seen // IMPORT_BATCH
        if batches >= 2 and batches & (batches - 1) == 0:  # after batch 2, 4, 8, 16...
            _refresh_statistics(session)
        existing = _existing_values(session, bank.id, batch)
        out: list[dict[str, Any]] = []
        for pos, e in enumerate(batch, start=lo):
            if (e.signal_type, e.value) in existing:
                continue
            existing.add((e.signal_type, e.value))
            entry_id = new_id()
            added += 1
            if keep_ids:
                new_ids.append(entry_id)
            classification = e.classification or bank.default_classification
            common = dict(
                bank_id=bank.id,
                classification=classification,
                source_ref=e.source_ref,
                added_by=actor,
                created_at=stamp,
                enabled=True,
                change_seq=seq,
            )
            out.append(
                dict(id=entry_id, signal_type=e.signal_type, value=e.value, variant_of=None, variant=None, **common)
            )
            for variant, value in keep_for_level((variants or {}).get(pos, []), robustness):
                out.append(
                    dict(id=new_id(), signal_type="pdq", value=value, variant_of=entry_id, variant=variant, **common)
                )
        if out:  # Core executemany: no per-row ORM bookkeeping (every row has the same keys)
            session.execute(insert(BANK_ENTRIES), out)
    if not seen:
        return Imported(0, 0, [])
    record_event(
        session,
        "bank.entries_added",
        subject_type="bank",
        subject_id=bank.id,
        actor=actor,
        data={"count": added, "skipped_duplicates": seen - added},
    )
    audit(
        session,
        actor=actor,
        action="bank.entries_add",
        object_type="bank",
        object_id=bank.id,
        details={"count": added},
    )
    return Imported(added, seen, new_ids)


def _refresh_statistics(session: Session) -> None:
    """PostgreSQL: re-analyse the entries table inside the import's transaction (ANALYZE counts the
    transaction's own new rows). With the statistics of the table as it was before the import,
    the planner takes it for small and checks each batch's duplicates by scanning it: a
    200,000-line import took 9 minutes, growing with the square of the file (11 s with this)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE bank_entries"))


def _existing_values(session: Session, bank_id: str, batch: list[EntryIn]) -> set[tuple[str, str]]:
    """(type, value) pairs of the batch already banked in the bank (its own entries, not variants);
    one statement per signal type, so the (signal_type, value) index serves it.

    The bank and the variant test are applied here, not in SQL: given `bank_id = ?` too, SQLite's
    planner (no statistics) walks the bank_id index, reading every entry of the bank once per
    batch, so an import grew with the square of the bank (1M lines into a new bank: 81 s, now
    39 s). The rows of these values in other banks are few."""
    by_type: dict[str, set[str]] = {}
    for e in batch:
        by_type.setdefault(e.signal_type, set()).add(e.value)
    found: set[tuple[str, str]] = set()
    for signal_type, values in by_type.items():
        rows = session.execute(
            select(BankEntry.value, BankEntry.bank_id, BankEntry.variant_of).where(
                BankEntry.signal_type == signal_type, BankEntry.value.in_(values)
            )
        )
        found.update((signal_type, v) for v, bank, variant_of in rows if bank == bank_id and variant_of is None)
    return found


def get_entry(session: Session, entry_id: str) -> BankEntry:
    entry = session.get(BankEntry, entry_id)
    if entry is None:
        raise NotFound(f"no bank entry '{entry_id}'", code="entry_not_found")
    return entry


def set_entry_enabled(session: Session, entry: BankEntry, enabled: bool, *, actor: str) -> BankEntry:
    """Disable (or re-enable) an entry and its banked variants, keeping the rows."""
    seq = bump_counter(session)
    session.execute(
        update(BankEntry)
        .where((BankEntry.id == entry.id) | (BankEntry.variant_of == entry.id))
        .values(enabled=enabled, change_seq=seq)
    )
    session.refresh(entry)
    action = "bank.entry_enabled" if enabled else "bank.entry_disabled"
    record_event(session, action, subject_type="bank_entry", subject_id=entry.id, actor=actor)
    audit(session, actor=actor, action=action, object_type="bank_entry", object_id=entry.id)
    return entry


def release_entry(session: Session, entry: BankEntry, *, actor: str) -> BankEntry:
    """Lift flood quarantine after review confirmed the entry."""
    seq = bump_counter(session)
    session.execute(
        update(BankEntry)
        .where((BankEntry.id == entry.id) | (BankEntry.variant_of == entry.id))
        .values(quarantined_at=None, quarantine_reason=None, change_seq=seq)
    )
    session.refresh(entry)
    record_event(session, "bank.entry_released", subject_type="bank_entry", subject_id=entry.id, actor=actor)
    audit(session, actor=actor, action="bank.entry_release", object_type="bank_entry", object_id=entry.id)
    return entry


def quarantine_entry(session: Session, entry_id: str, reason: str, *, actor: str = "system:flood") -> None:
    seq = bump_counter(session)
    root = session.get(BankEntry, entry_id)
    if root is None:
        return
    target = root.variant_of or root.id
    session.execute(
        update(BankEntry)
        .where((BankEntry.id == target) | (BankEntry.variant_of == target))
        .values(quarantined_at=now(), quarantine_reason=reason, change_seq=seq)
    )
    record_event(
        session,
        "bank.entry_quarantined",
        subject_type="bank_entry",
        subject_id=target,
        actor=actor,
        data={"reason": reason},
    )


def iter_entries(session: Session, bank: Bank, *, include_disabled: bool = False) -> Iterator[EntryIn]:
    """The bank's own entries (not the derived variants) in export form."""
    q = select(BankEntry).where(BankEntry.bank_id == bank.id, BankEntry.variant_of.is_(None)).order_by(BankEntry.id)
    if not include_disabled:
        q = q.where(BankEntry.enabled.is_(True))
    for e in session.scalars(q.execution_options(yield_per=10_000)):
        yield EntryIn(e.signal_type, e.value, e.classification, e.source_ref)


def entries_from_files(
    paths: Iterable[Path], *, classification: str | None, max_pixels: int
) -> tuple[list[EntryIn], dict[int, list[tuple[str, str]]], list[tuple[Path, str]]]:
    """Hash local files for banking: MD5, SHA-1, SHA-256 for every file; PDQ (plus centre-crop
    variants) for images. Returns entries, their variants by position, and per-file errors."""

    entries: list[EntryIn] = []
    variants: dict[int, list[tuple[str, str]]] = {}
    errors: list[tuple[Path, str]] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            errors.append((path, f"cannot read: {exc.strerror}"))
            continue
        ref = path.name
        c = crypto_hashes(data)
        for st, value in (("md5", c.md5), ("sha1", c.sha1), ("sha256", c.sha256)):
            entries.append(EntryIn(st, value, classification, ref))
        kind = sniff_media_kind(data)
        if kind and kind[0] == "image":
            try:
                hashes, crops = bank_variants(data, max_pixels=max_pixels)
            except HavenError as exc:
                errors.append((path, exc.message))
                continue
            variants[len(entries)] = crops
            entries.append(EntryIn("pdq", hashes.pdq, classification, ref))
    return entries, variants, errors


def flood_check(session: Session, entry_ids: Iterable[str], *, max_distinct: int, window_seconds: int) -> list[str]:
    """Quarantine entries that matched more distinct content than allowed in the window.

    A benign viral image wrongly banked would otherwise block thousands of uploads before
    anyone notices; quarantined entries send their matches to review instead.
    """

    ids = sorted(set(entry_ids))
    if not ids:
        return []
    since = now() - timedelta(seconds=window_seconds)
    rows = session.execute(
        select(Match.entry_id, func.count(func.distinct(Match.content_id)))
        .where(Match.entry_id.in_(ids), Match.created_at >= since, Match.source == "content")
        .group_by(Match.entry_id)
    ).all()
    flooded = [entry_id for entry_id, n in rows if n > max_distinct]
    for entry_id in flooded:
        quarantine_entry(
            session, entry_id, f"matched more than {max_distinct} distinct uploads within {window_seconds} s"
        )
    return flooded


def valid_classification(value: str | None) -> bool:
    return value is None or value in CLASSIFICATIONS or 0 < len(value) <= 80


def set_entries_state(
    session: Session,
    entry_ids: Iterable[str],
    *,
    enabled: bool | None = None,
    quarantine_reason: str | None = None,
    actor: str,
) -> int:
    """Disable/enable or quarantine many entries (and their banked variants) in one change: what
    an exchange applies for a page of upstream deletions or a list fetched in quarantine mode.
    One counter bump; the caller records the event that explains the change."""
    ids = sorted(set(entry_ids))
    if not ids:
        return 0
    values: dict[str, Any] = {"change_seq": bump_counter(session)}
    if enabled is not None:
        values["enabled"] = enabled
    if quarantine_reason is not None:
        values.update(quarantined_at=now(), quarantine_reason=quarantine_reason)
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        session.execute(
            update(BankEntry).where(BankEntry.id.in_(chunk) | BankEntry.variant_of.in_(chunk)).values(**values)
        )
    audit(
        session,
        actor=actor,
        action="bank.entries_state",
        object_type="bank_entry",
        object_id=ids[0],
        details={"count": len(ids), "enabled": enabled, "quarantine": quarantine_reason},
    )
    return len(ids)
