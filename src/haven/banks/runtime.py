"""Keeps a process's matcher loaded and current with the database.

Every bank change bumps the `banks` counter and stamps the changed entries with the new value;
each API process polls the counter every `index_refresh_seconds` and applies only the entries
stamped after what it has seen, so a change reaches every process within seconds with no rebuild.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.banks.matcher import EntryMeta, Matcher
from haven.banks.models import Bank, BankEntry
from haven.core.db import Database
from haven.core.models import Counter
from haven.core.settings import Settings

log = logging.getLogger("haven.banks.runtime")

COUNTER = "banks"
#: /readyz reports not ready when the last successful refresh is older than this.
STALE_AFTER_SECONDS = 10.0


def current_seq(session: Session) -> int:
    row = session.get(Counter, COUNTER)
    return row.value if row else 0


def load_changes(session: Session, after_seq: int) -> tuple[list[tuple[EntryMeta, bool]], int]:
    """Entries changed after `after_seq`, each with whether it is live (enabled in an enabled bank)."""
    seq = current_seq(session)
    if seq <= after_seq:
        return [], seq
    rows = session.execute(
        select(BankEntry, Bank)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(BankEntry.change_seq > after_seq)
        .execution_options(yield_per=50_000)
    )
    out: list[tuple[EntryMeta, bool]] = []
    for entry, bank in rows:
        meta = EntryMeta(
            entry_id=entry.id,
            bank_id=bank.id,
            bank_kind=bank.kind,
            signal_type=entry.signal_type,
            value=entry.value,
            classification=entry.classification or bank.default_classification,
            threshold=bank.pdq_threshold,
            quarantined=entry.quarantined_at is not None,
        )
        out.append((meta, bool(entry.enabled and bank.enabled)))
    return out, seq


def load_deleted(session: Session, after_seq: int) -> list[str]:
    """Ids of entries whose bank was deleted after `after_seq` (their rows are gone)."""
    from haven.banks.models import DeletedEntry

    return list(session.scalars(select(DeletedEntry.entry_id).where(DeletedEntry.change_seq > after_seq)))


class MatcherRuntime:
    """The matcher of one process and its refresh thread."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.matcher = Matcher()
        self.loaded = False
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
        """Apply every change since the last refresh; returns how many entries changed."""
        with self._refresh_lock, self.db.sessions() as s:
            seen = self.matcher.seq
            changes, seq = load_changes(s, seen)
            deleted = load_deleted(s, seen) if seq > seen else []
        if deleted:
            gone = [(EntryMeta(d, "", "", "", "", None, 0, False), False) for d in deleted]
            changes = gone + changes
        if changes or seq != self.matcher.seq:
            self.matcher.apply(changes, seq)
        self.loaded = True
        self.last_error = None
        self.last_refresh = time.monotonic()
        return len(changes)

    def readiness(self) -> dict[str, Any]:
        age = time.monotonic() - self.last_refresh if self.loaded else None
        ready = self.loaded and age is not None and age <= STALE_AFTER_SECONDS
        return {
            "ready": ready,
            "index": self.matcher.stats(),
            "refreshed_seconds_ago": None if age is None else round(age, 3),
            "error": self.last_error,
        }
