"""The in-memory matcher: exact dictionaries for cryptographic hashes, the PDQ index for
perceptual ones, and the metadata that turns slots into bank entries.

Kept current by applying changed entries (by change sequence number), never by rebuilding.
Pure logic: `haven.banks.runtime` feeds it rows from the database.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from haven.banks.index import PDQIndex, hex_to_words


@dataclass(frozen=True, slots=True)
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
#: Version of the array layout written by `Matcher.to_arrays`; a snapshot of another version is ignored.
SNAPSHOT_FORMAT = 1
Arrays = dict[str, npt.NDArray[np.generic]]


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
        #: Live PDQ entries per threshold, so the largest is known without scanning every entry.
        self._thresholds: Counter[int] = Counter()

    def _set_max_threshold(self) -> None:
        self.max_threshold = max((t for t, n in self._thresholds.items() if n > 0), default=0)

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
                    self._thresholds[meta.threshold] += 1
                elif meta.signal_type in EXACT_TYPES or meta.signal_type == "vpdq":
                    self._exact[(meta.signal_type, meta.value)].add(meta.entry_id)
            if new_pdq:
                slots = self.index.add(hex_to_words([m.value for m in new_pdq]))
                self._slot_entry.extend([None] * (int(slots[-1]) + 1 - len(self._slot_entry)))
                for meta, slot in zip(new_pdq, slots, strict=True):
                    self._slot_entry[int(slot)] = meta.entry_id
                    self._entry_slot[meta.entry_id] = int(slot)
            self._set_max_threshold()
            self.seq = max(self.seq, seq)

    def _drop(self, entry_id: str) -> None:
        old = self._meta.pop(entry_id, None)
        if old is None:
            return
        slot = self._entry_slot.pop(entry_id, None)
        if slot is not None:
            self.index.remove([slot])
            self._slot_entry[slot] = None
            self._thresholds[old.threshold] -= 1
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
            found = self.index.search_many(words, self.max_threshold)  # all variants in one batch
            for (name, _), (slots, dists) in zip(variants, found, strict=True):
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

    def to_arrays(self) -> Arrays:
        """Everything the matcher holds as plain arrays (no pickle): the PDQ index, the entry of each
        slot, the exact-hash entries, and small tables of the banks' and classifications' values.

        The caller must keep `apply` from running until the arrays are written (the runtime holds
        its refresh lock); requests may keep matching meanwhile.
        """
        with self._lock:
            index = self.index.arrays()  # merges the delta, so the postings cover every slot
            metas = list(self._meta.values())
            slot_ids = list(self._slot_entry) + [None] * (self.index.slots - len(self._slot_entry))
            pdq_rows = [None if e is None else self._meta.get(e) for e in slot_ids]
            seq = self.seq
        banks: dict[tuple[str, str, int], int] = {}
        classes: dict[str | None, int] = {None: 0}
        signals: dict[str, int] = {}

        def columns(rows: list[EntryMeta | None]) -> dict[str, npt.NDArray[np.generic]]:
            return {
                "bank": np.array(
                    [
                        -1 if m is None else banks.setdefault((m.bank_id, m.bank_kind, m.threshold), len(banks))
                        for m in rows
                    ],
                    dtype=np.int32,
                ),
                "class": np.array(
                    [0 if m is None else classes.setdefault(m.classification, len(classes)) for m in rows],
                    dtype=np.int32,
                ),
                "quarantined": np.array([m is not None and m.quarantined for m in rows], dtype=bool),
            }

        exact_rows = [m for m in metas if m.signal_type != "pdq"]
        out: Arrays = {f"index_{k}": v for k, v in index.items()}
        out["pdq_entry"] = np.array([b"" if m is None else m.entry_id.encode() for m in pdq_rows], dtype="S")
        out.update({f"pdq_{k}": v for k, v in columns(pdq_rows).items()})  # type: ignore[arg-type]
        out["exact_entry"] = np.array([m.entry_id.encode() for m in exact_rows], dtype="S")
        out["exact_signal"] = np.array(
            [signals.setdefault(m.signal_type, len(signals)) for m in exact_rows], dtype=np.int32
        )
        out["exact_value"] = np.array([m.value.encode() for m in exact_rows], dtype="S")
        out.update({f"exact_{k}": v for k, v in columns(exact_rows).items()})  # type: ignore[arg-type]
        out["bank_id"] = np.array([b[0] for b in banks], dtype=str)
        out["bank_kind"] = np.array([b[1] for b in banks], dtype=str)
        out["bank_threshold"] = np.array([b[2] for b in banks], dtype=np.int64)
        out["class_name"] = np.array(["" if c is None else c for c in classes], dtype=str)
        out["signal_name"] = np.array(list(signals), dtype=str)
        out["seq"] = np.array(seq, dtype=np.int64)
        out["format"] = np.array(SNAPSHOT_FORMAT, dtype=np.int64)
        return out

    @classmethod
    def from_arrays(cls, data: Arrays | np.lib.npyio.NpzFile) -> Matcher:
        """The matcher `to_arrays` described; raises ValueError on arrays that do not fit together."""
        if int(data["format"]) != SNAPSHOT_FORMAT:
            raise ValueError(f"snapshot format {int(data['format'])} is not {SNAPSHOT_FORMAT}")
        matcher = cls()
        matcher.index = PDQIndex.from_arrays({k[6:]: data[k] for k in data if k.startswith("index_")})
        bank_id, bank_kind = data["bank_id"].tolist(), data["bank_kind"].tolist()
        threshold = data["bank_threshold"].tolist()
        classes = [None, *data["class_name"].tolist()[1:]]
        signals = data["signal_name"].tolist()

        def meta(entry: bytes, signal: str, value: str, bank: int, klass: int, quarantined: bool) -> EntryMeta:
            return EntryMeta(
                entry.decode(),
                bank_id[bank],
                bank_kind[bank],
                signal,
                value,
                classes[klass],
                threshold[bank],
                quarantined,
            )

        slots = matcher.index.slots
        pdq_entry = data["pdq_entry"]
        if pdq_entry.shape != (slots,):
            raise ValueError("snapshot entry columns do not match the index")
        live = np.flatnonzero(pdq_entry != b"")
        words = matcher.index.arrays()["words"][live]
        raw = words.astype(">u8").tobytes().hex()
        banks, klass, quar = (data[f"pdq_{k}"][live].tolist() for k in ("bank", "class", "quarantined"))
        matcher._slot_entry = [None] * slots
        for i, (slot, entry) in enumerate(zip(live.tolist(), pdq_entry[live].tolist(), strict=True)):
            m = meta(entry, "pdq", raw[64 * i : 64 * i + 64], banks[i], klass[i], quar[i])
            matcher._meta[m.entry_id] = m
            matcher._entry_slot[m.entry_id] = slot
            matcher._slot_entry[slot] = m.entry_id
        columns = [data[f"exact_{k}"].tolist() for k in ("entry", "signal", "value", "bank", "class", "quarantined")]
        for entry, signal, value, bank, klass_, quarantined in zip(*columns, strict=True):
            m = meta(entry, signals[signal], value.decode(), bank, klass_, quarantined)
            matcher._meta[m.entry_id] = m
            matcher._exact[(m.signal_type, m.value)].add(m.entry_id)
        matcher._thresholds = Counter(threshold[b] for b in data["pdq_bank"][live].tolist())
        matcher._set_max_threshold()
        matcher.seq = int(data["seq"])
        return matcher

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "entries": len(self._meta),
                "pdq": len(self._entry_slot),
                "exact": sum(len(v) for v in self._exact.values()),
                "seq": self.seq,
            }


__all__ = ["EXACT_TYPES", "EntryMeta", "Hit", "Matcher", "np"]
