"""The in-memory matcher: exact dictionaries for cryptographic hashes, the PDQ index for
perceptual ones, and the metadata that turns slots into bank entries.

Kept current by applying changed entries (by change sequence number), never by rebuilding.
Pure logic: `haven.banks.runtime` feeds it rows from the database.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from haven.banks.index import PDQIndex, hex_to_words


@dataclass(frozen=True)
class EntryMeta:
    entry_id: str
    bank_id: str
    bank_kind: str
    signal_type: str
    value: str
    classification: str | None
    threshold: int
    quarantined: bool


@dataclass(frozen=True)
class Hit:
    entry: EntryMeta
    distance: int
    query_variant: str


EXACT_TYPES = ("md5", "sha1", "sha256")


class Matcher:
    """Thread-safe for one writer (the refresher) and many readers (requests)."""

    def __init__(self) -> None:
        self.index = PDQIndex()
        self._slot_entry: list[str | None] = []
        self._entry_slot: dict[str, int] = {}
        self._exact: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._meta: dict[str, EntryMeta] = {}
        self._lock = threading.RLock()
        self.seq = 0
        self.max_threshold = 0

    def __len__(self) -> int:
        return len(self._meta)

    def apply(self, entries: list[tuple[EntryMeta, bool]], seq: int) -> None:
        """Upsert (live=True) or remove (live=False) entries, then record the sequence reached."""
        with self._lock:
            new_pdq: list[EntryMeta] = []
            for meta, live in entries:
                self._drop(meta.entry_id)
                if not live:
                    continue
                self._meta[meta.entry_id] = meta
                if meta.signal_type == "pdq":
                    new_pdq.append(meta)
                elif meta.signal_type in EXACT_TYPES or meta.signal_type == "vpdq":
                    self._exact[(meta.signal_type, meta.value)].add(meta.entry_id)
            if new_pdq:
                slots = self.index.add(hex_to_words([m.value for m in new_pdq]))
                self._slot_entry.extend([None] * (int(slots[-1]) + 1 - len(self._slot_entry)))
                for meta, slot in zip(new_pdq, slots, strict=True):
                    self._slot_entry[int(slot)] = meta.entry_id
                    self._entry_slot[meta.entry_id] = int(slot)
            self.max_threshold = max((m.threshold for m in self._meta.values() if m.signal_type == "pdq"), default=0)
            self.seq = max(self.seq, seq)

    def _drop(self, entry_id: str) -> None:
        old = self._meta.pop(entry_id, None)
        if old is None:
            return
        slot = self._entry_slot.pop(entry_id, None)
        if slot is not None:
            self.index.remove([slot])
            self._slot_entry[slot] = None
        else:
            bucket = self._exact.get((old.signal_type, old.value))
            if bucket is not None:
                bucket.discard(entry_id)
                if not bucket:
                    del self._exact[(old.signal_type, old.value)]

    def match_exact(self, signal_type: str, value: str) -> list[Hit]:
        with self._lock:
            ids = self._exact.get((signal_type, value.lower()), set())
            return [Hit(self._meta[i], 0, "original") for i in sorted(ids)]

    def match_pdq(self, variants: list[tuple[str, str]]) -> list[Hit]:
        """Best hit per entry over the query variants, each within its bank's threshold."""
        with self._lock:
            if not variants or (self.max_threshold <= 0 and not self._entry_slot):
                return []
            best: dict[str, Hit] = {}
            words = hex_to_words([v for _, v in variants])
            for (name, _), q in zip(variants, words, strict=True):
                slots, dists = self.index.search(q, self.max_threshold)
                for slot, dist in zip(slots.tolist(), dists.tolist(), strict=True):
                    entry_id = self._slot_entry[slot]
                    if entry_id is None:
                        continue
                    meta = self._meta[entry_id]
                    if dist > meta.threshold:
                        continue
                    prev = best.get(entry_id)
                    if prev is None or dist < prev.distance:
                        best[entry_id] = Hit(meta, int(dist), name)
            return sorted(best.values(), key=lambda h: (h.distance, h.entry.entry_id))

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "entries": len(self._meta),
                "pdq": len(self._entry_slot),
                "exact": sum(len(v) for v in self._exact.values()),
                "seq": self.seq,
            }


__all__ = ["EXACT_TYPES", "EntryMeta", "Hit", "Matcher", "np"]
