"""Keeps a process's matcher loaded and current with the database.

Every bank change bumps the `banks` counter and stamps the changed entries with the new value;
each API process polls the counter every `index_refresh_seconds` and applies only the entries
stamped after what it has seen, so a change reaches every process within seconds with no rebuild.

A snapshot (`var_dir/index/matcher.npz`: the index, the entry of each slot, and the change
counter reached, as plain arrays) lets a process start without reading every row: it maps the
snapshot's index arrays (shared by every worker process through the page cache: the index's
updates are copy-on-write, see `haven.banks.index`), then applies only the changes stamped after
it. Snapshots are written by the refresher after a refresh that applied many changes, and by
`haven bank snapshot`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.banks.matcher import Arrays, EntryMeta, Matcher
from haven.banks.models import Bank, BankEntry, DeletedEntry
from haven.core.db import Database
from haven.core.models import Counter
from haven.core.settings import Settings

log = logging.getLogger("haven.banks.runtime")

COUNTER = "banks"
#: /readyz reports not ready when the last successful refresh is older than this.
STALE_AFTER_SECONDS = 10.0
#: A refresh that applied at least this many changes writes a new snapshot.
SNAPSHOT_AFTER_CHANGES = 100_000


def snapshot_path(settings: Settings) -> Path:
    return settings.var_dir / "index" / "matcher.npz"


#: Snapshot arrays mapped from the file rather than read: the index's hashes, postings and
#: offsets (about 100 bytes per hash), and the entry id of each slot with their sorted order
#: (`matcher.EntryIds`, ~30 bytes per hash), which no process writes to. Every worker of
#: `haven serve --workers N` that maps one snapshot shares these pages through the page cache.
MAPPED = frozenset({"index_words", "index_postings", "index_offsets", "pdq_entry", "pdq_entry_order"})


def open_snapshot(path: Path) -> Arrays:
    """The arrays of a snapshot (`np.savez`: an uncompressed zip of `.npy` members), with the
    `MAPPED` ones memory-mapped read-only at their offset in the file (np.load cannot map a
    member of an .npz) and the others read. No pickle: object arrays are refused."""
    out: Arrays = {}
    with zipfile.ZipFile(path) as zf, path.open("rb") as raw:
        for info in zf.infolist():
            name = info.filename.removesuffix(".npy")
            if name not in MAPPED or info.compress_type != zipfile.ZIP_STORED:
                with zf.open(info) as member:
                    out[name] = np.lib.format.read_array(member, allow_pickle=False)
                continue
            raw.seek(info.header_offset)
            local = raw.read(30)
            if local[:4] != b"PK\x03\x04":
                raise ValueError(f"snapshot member {name} has no local header")
            raw.seek(
                info.header_offset
                + 30
                + int.from_bytes(local[26:28], "little")
                + int.from_bytes(local[28:30], "little")
            )
            version = np.lib.format.read_magic(raw)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(raw)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(raw)
            else:
                raise ValueError(f"snapshot member {name} has .npy version {version}")
            if dtype.hasobject:
                raise ValueError(f"snapshot member {name} holds objects")
            if int(np.prod(shape)) == 0:
                out[name] = np.zeros(shape, dtype=dtype)
                continue
            out[name] = np.memmap(
                path, dtype=dtype, mode="r", offset=raw.tell(), shape=shape, order="F" if fortran else "C"
            )
    return out


def database_fingerprint(db: Database) -> str:
    """Which database a snapshot came from (the URL without its password), so another one's is ignored."""
    url = db.engine.url.render_as_string(hide_password=True)
    return hashlib.sha256(url.encode()).hexdigest()[:32]


def current_seq(session: Session) -> int:
    row = session.get(Counter, COUNTER)
    return row.value if row else 0


def load_changes(session: Session, after_seq: int) -> tuple[list[tuple[EntryMeta, bool]], int]:
    """Entries changed after `after_seq`, each with whether it is live (enabled in an enabled bank)."""
    chunks, seq = iter_changes(session, after_seq)
    return [change for chunk in chunks for change in chunk], seq


#: Rows per chunk of `iter_changes` (a full load holds one chunk of Python objects at a time).
CHUNK_ROWS = 50_000


def iter_changes(session: Session, after_seq: int) -> tuple[Iterator[list[tuple[EntryMeta, bool]]], int]:
    """`load_changes` in chunks of CHUNK_ROWS, read while the caller's session is open."""
    seq = current_seq(session)
    if seq <= after_seq:
        return iter(()), seq
    # Columns, not ORM entities: a cold start or `haven bank snapshot` reads every entry, and
    # 1,000,000 BankEntry objects took 44.8 s and 680 MB on SQLite (docs/throughput.md).
    rows = session.execute(
        select(
            BankEntry.id,
            Bank.id,
            Bank.kind,
            BankEntry.signal_type,
            BankEntry.value,
            BankEntry.classification,
            Bank.default_classification,
            Bank.pdq_threshold,
            BankEntry.quarantined_at,
            BankEntry.enabled,
            Bank.enabled,
        )
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(BankEntry.change_seq > after_seq)
        .execution_options(yield_per=CHUNK_ROWS)
    )

    def chunks() -> Iterator[list[tuple[EntryMeta, bool]]]:
        # The driver makes a new string per row for the few values every entry repeats (bank,
        # kind, type, classification): one shared copy of each saves ~180 B per entry.
        shared: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for part in rows.partitions():
            out: list[tuple[EntryMeta, bool]] = []
            for eid, bid, kind, st, value, cls, default, threshold, quarantined, on, bank_on in part:
                key = (bid, kind, st, cls, default, threshold)
                common = shared.get(key)
                if common is None:
                    common = shared[key] = (bid, kind, st, cls or default, threshold)
                b, k, t, c, th = common
                out.append((EntryMeta(eid, b, k, t, value, c, th, quarantined is not None), bool(on and bank_on)))
            yield out

    return chunks(), seq


def load_deleted(session: Session, after_seq: int) -> list[str]:
    """Ids of entries whose bank was deleted after `after_seq` (their rows are gone)."""

    return list(session.scalars(select(DeletedEntry.entry_id).where(DeletedEntry.change_seq > after_seq)))


class MatcherRuntime:
    """The matcher of one process and its refresh thread."""

    def __init__(self, db: Database, settings: Settings, snapshot_after: int | None = SNAPSHOT_AFTER_CHANGES) -> None:
        self.db = db
        self.settings = settings
        self.snapshot_after = snapshot_after
        self.matcher = Matcher()
        self.loaded = False
        #: Where the current matcher started: "snapshot" or "database".
        self.loaded_from: str | None = None
        self.last_refresh = 0.0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._refresh_lock = threading.Lock()

    def start(self) -> None:
        """Load the index and start the refresher; a load failure leaves the process unready."""
        try:
            self.refresh()
        except Exception as exc:
            self.last_error = str(exc)
            log.exception("match index load failed")
        self._thread = threading.Thread(target=self._loop, name="haven-index-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.index_refresh_seconds):
            try:
                self.refresh()
            except Exception as exc:  # keep serving the last good index, report unready
                self.last_error = str(exc)
                log.warning("match index refresh failed", extra={"error": str(exc)})

    def refresh(self) -> int:
        """Apply every change since the last refresh; returns how many entries changed.

        The first refresh starts from the snapshot when there is a usable one.
        """
        with self._refresh_lock:
            if not self.loaded and self.matcher.seq == 0:
                self._load_snapshot()
            with self.db.reading() as s:  # a poll: on SQLite it must not take the write lock
                seen = self.matcher.seq
                loaded = 0
                changes: list[tuple[EntryMeta, bool]] = []
                deleted: list[str] = []
                if not len(self.matcher):
                    # Nothing held (a first start without a usable snapshot, or every entry gone):
                    # the changes are built chunk by chunk into a new matcher's arrays, never all
                    # held as Python objects (10M entries peaked at 8.1 GB through `apply`), and
                    # there is nothing to remove.
                    chunks, seq = iter_changes(s, seen)
                    if seq > seen:
                        self.matcher = Matcher.build(chunks, seq)
                        loaded = len(self.matcher)
                else:
                    changes, seq = load_changes(s, seen)
                    deleted = load_deleted(s, seen) if seq > seen else []
            if deleted:
                gone = [(EntryMeta(d, "", "", "", "", None, 0, False), False) for d in deleted]
                changes = gone + changes
            if changes or seq != self.matcher.seq:
                self.matcher.apply(changes, seq)
            if not self.loaded and self.loaded_from is None:
                self.loaded_from = "database"
            self.loaded = True
            self.last_error = None
            self.last_refresh = time.monotonic()
            if self.snapshot_after is not None and loaded + len(changes) >= self.snapshot_after:
                try:
                    self._write_snapshot()
                except OSError as exc:  # a snapshot only speeds up the next start
                    log.warning("match index snapshot failed", extra={"error": str(exc)})
                self.last_refresh = time.monotonic()
            return loaded + len(changes)

    def write_snapshot(self) -> Path:
        """Write the snapshot now (after applying the latest changes); returns its path."""
        self.refresh()
        with self._refresh_lock:
            return self._write_snapshot()

    def _write_snapshot(self) -> Path:
        """Write atomically (temporary file, then rename); the caller holds the refresh lock, so the
        matcher cannot change while its arrays are written."""
        path = snapshot_path(self.settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = self.matcher.to_arrays()
        arrays["database"] = np.array(database_fingerprint(self.db))
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with tmp.open("wb") as f:
                np.savez(f, **arrays)  # type: ignore[arg-type]
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        log.info("match index snapshot written", extra={"path": str(path), "seq": self.matcher.seq})
        return path

    def _load_snapshot(self) -> None:
        """Start from the snapshot if it is from this database and not ahead of it; else from scratch."""
        path = snapshot_path(self.settings)
        if not path.exists():
            return
        try:
            arrays = open_snapshot(path)
            if str(arrays.pop("database")) != database_fingerprint(self.db):
                raise ValueError("snapshot is from another database")
            with self.db.reading() as s:
                if int(arrays["seq"]) > current_seq(s):
                    raise ValueError("snapshot is ahead of the database")
            self.matcher = Matcher.from_arrays(arrays)
            self.loaded_from = "snapshot"
            log.info("match index loaded from snapshot", extra={"seq": self.matcher.seq, "entries": len(self.matcher)})
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            log.warning("match index snapshot ignored", extra={"path": str(path), "error": str(exc)})
            self.matcher = Matcher()

    def readiness(self) -> dict[str, Any]:
        age = time.monotonic() - self.last_refresh if self.loaded else None
        ready = self.loaded and age is not None and age <= STALE_AFTER_SECONDS
        return {
            "ready": ready,
            "index": self.matcher.stats(),
            "loaded_from": self.loaded_from,
            "refreshed_seconds_ago": None if age is None else round(age, 3),
            "error": self.last_error,
        }
