"""The in-memory matcher: exact dictionaries for the signal types the registry marks exact
(md5, sha1, sha256, ...), the PDQ index for PDQ, and the metadata that turns slots into bank
entries.

Kept current by applying changed entries (by change sequence number), never by rebuilding.
Pure logic: `haven.banks.runtime` feeds it rows from the database.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt

from haven.banks.index import IndexView, PDQIndex, hex_to_words, words_to_hex
from haven.signals.types import PDQ, REGISTRY


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


#: Version of the array layout written by `Matcher.to_arrays`; a snapshot of another version is ignored.
SNAPSHOT_FORMAT = 1
#: Compact the index when removed slots outnumber live entries and are at least this many.
COMPACT_MIN_DEAD = 4096
Arrays = dict[str, npt.NDArray[np.generic]]


class EntryIds:
    """Slot <-> entry id for the PDQ slots: a fixed-width byte array (the snapshot's, memory-mapped
    and so shared by every worker process) searched through a sorted permutation, plus two small
    dictionaries for the changes applied since (new slots, removed ones).

    A Python string and dictionary entry per slot cost ~250 bytes each in every worker; this costs
    the snapshot's 26 bytes per slot once for all workers, and 4-8 bytes of permutation each.
    One writer (the matcher's, under its lock); readers only call `entry`, which reads one dict
    and the array, so they need no lock (as the list it replaces)."""

    def __init__(self, base: npt.NDArray[np.generic] | None = None, order: npt.NDArray[np.generic] | None = None):
        self.base = np.zeros(0, dtype="S26") if base is None else base
        if order is None or len(order) != len(self.base):
            order = np.argsort(self.base, kind="stable").astype(np.int32 if len(self.base) < 2**31 else np.int64)
        self.order = cast(npt.NDArray[np.integer], order)
        self.slot_over: dict[int, str | None] = {}
        self.entry_over: dict[str, int | None] = {}
        self.live = int(np.count_nonzero(self.base != b"")) if len(self.base) else 0

    def __len__(self) -> int:
        return self.live

    def entry(self, slot: int) -> str | None:
        got = self.slot_over.get(slot, "")
        if got != "":
            return got
        if slot < len(self.base):
            raw = self.base[slot]
            return raw.decode() if raw else None
        return None

    def slot(self, entry_id: str) -> int | None:
        if entry_id in self.entry_over:
            return self.entry_over[entry_id]
        key = entry_id.encode()
        if not len(self.base) or len(key) > self.base.dtype.itemsize:
            return None
        i = int(np.searchsorted(self.base, np.array(key, dtype=self.base.dtype), sorter=self.order))
        if i < len(self.order) and self.base[self.order[i]] == key:
            return int(self.order[i])
        return None

    def __contains__(self, entry_id: str) -> bool:
        return self.slot(entry_id) is not None

    def put(self, slot: int, entry_id: str) -> None:
        """Slot `slot` (a new one, past every slot in use) now holds `entry_id` (not held elsewhere)."""
        self.slot_over[slot] = entry_id
        self.entry_over[entry_id] = slot
        self.live += 1

    def pop(self, entry_id: str) -> int | None:
        """Remove the entry; returns the slot it held, or None."""
        slot = self.slot(entry_id)
        if slot is None:
            return None
        self.slot_over[slot] = None
        self.entry_over[entry_id] = None
        self.live -= 1
        return slot

    def to_array(self, n: int) -> npt.NDArray[np.generic]:
        """The ids of slots 0..n-1 (b"" for none), overlays applied."""
        width = max([self.base.dtype.itemsize] + [len(e.encode()) for e in self.slot_over.values() if e])
        out = np.zeros(n, dtype=f"S{width}")
        k = min(n, len(self.base))
        out[:k] = self.base[:k]
        for slot, e in self.slot_over.items():
            if slot < n:
                out[slot] = (e or "").encode()
        return out

    @classmethod
    def of(cls, ids: list[str | None]) -> EntryIds:
        return cls(np.array([(e or "").encode() for e in ids], dtype="S26" if not ids else "S"))


class Matcher:
    """Thread-safe for one writer (the refresher) and many readers (requests), and readers take
    no lock: the index publishes copy-on-write views (`PDQIndex.view`), slot arrays only grow by
    replacement, and the one change that renumbers slots (`_compact`) is fenced by a generation
    counter that readers check (a seqlock), so a request never waits on a bank import.

    PDQ entries are kept by slot in arrays (bank and classification codes into small tables, the
    quarantine flag; the value is the slot's hash in the index) and turned into `EntryMeta` only
    for hits, so ten million entries cost a few hundred bytes each rather than a Python object
    graph per entry. Exact-hash entries are kept as `EntryMeta` in dictionaries.
    """

    def __init__(self) -> None:
        self.index = PDQIndex()
        self._ids = EntryIds()
        self._slot_bank: npt.NDArray[np.int32] = np.zeros(0, dtype=np.int32)
        self._slot_class: npt.NDArray[np.int32] = np.zeros(0, dtype=np.int32)
        self._slot_quarantined: npt.NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self._banks: list[tuple[str, str, int]] = []  # (bank id, kind, threshold) by code
        self._bank_code: dict[tuple[str, str, int], int] = {}
        self._classes: list[str | None] = [None]
        self._class_code: dict[str | None, int] = {None: 0}
        self._exact: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._meta: dict[str, EntryMeta] = {}  # exact-hash entries
        self._lock = threading.RLock()  # writers only
        #: Odd while `_compact` swaps the slot tables; readers retry when it moved under them.
        self._generation = 0
        self.seq = 0
        self.max_threshold = 0
        #: Live PDQ entries per threshold, so the largest is known without scanning every entry.
        self._thresholds: Counter[int] = Counter()

    def _set_max_threshold(self) -> None:
        self.max_threshold = max((t for t, n in self._thresholds.items() if n > 0), default=0)

    def __len__(self) -> int:
        return len(self._meta) + len(self._ids)

    def _code(self, meta: EntryMeta) -> tuple[int, int]:
        bank = (meta.bank_id, meta.bank_kind, meta.threshold)
        b = self._bank_code.get(bank)
        if b is None:
            b = self._bank_code[bank] = len(self._banks)
            self._banks.append(bank)
        c = self._class_code.get(meta.classification)
        if c is None:
            c = self._class_code[meta.classification] = len(self._classes)
            self._classes.append(meta.classification)
        return b, c

    def _grow_slots(self, need: int) -> None:
        cap = len(self._slot_bank)
        if need <= cap:
            return
        new_cap = max(need, cap + cap // 2, 1024)
        for name in ("_slot_bank", "_slot_class", "_slot_quarantined"):
            old = getattr(self, name)
            grown = np.zeros(new_cap, dtype=old.dtype)
            grown[:cap] = old
            setattr(self, name, grown)

    def apply(self, entries: list[tuple[EntryMeta, bool]], seq: int) -> None:
        """Upsert (live=True) or remove (live=False) entries, then record the sequence reached."""
        with self._lock:
            new_pdq: list[EntryMeta] = []
            same = self._unchanged_hashes(entries)
            for i, (meta, live) in enumerate(entries):
                slot = self._ids.slot(meta.entry_id) if live and i in same else None
                if slot is not None:  # same hash, other metadata (bank threshold, quarantine...): in place
                    self._thresholds[self._banks[int(self._slot_bank[slot])][2]] -= 1
                    self._slot_bank[slot], self._slot_class[slot] = self._code(meta)
                    self._slot_quarantined[slot] = meta.quarantined
                    self._thresholds[meta.threshold] += 1
                    continue
                self._drop(meta.entry_id)
                if not live:
                    continue
                t = REGISTRY.get(meta.signal_type)
                if t is PDQ:
                    new_pdq.append(meta)
                elif t is not None and t.exact:
                    self._meta[meta.entry_id] = meta
                    self._exact[(meta.signal_type, meta.value)].add(meta.entry_id)
                # Any other type has no index here (vPDQ cannot be banked: the registry says why).
            if new_pdq:
                slots = self.index.add(hex_to_words([m.value for m in new_pdq]))
                self._grow_slots(int(slots[-1]) + 1)
                for meta, slot in zip(new_pdq, slots.tolist(), strict=True):
                    self._drop(meta.entry_id)  # the same entry twice in one batch: keep the last
                    self._ids.put(slot, meta.entry_id)
                    self._slot_bank[slot], self._slot_class[slot] = self._code(meta)
                    self._slot_quarantined[slot] = meta.quarantined
                    self._thresholds[meta.threshold] += 1
            self._set_max_threshold()
            self.seq = max(self.seq, seq)
            if self.index.slots - len(self._ids) > max(COMPACT_MIN_DEAD, len(self._ids)):
                self._compact()

    @classmethod
    def build(cls, chunks: Iterable[list[tuple[EntryMeta, bool]]], seq: int) -> Matcher:
        """The matcher `Matcher().apply(all entries, seq)` makes (same slots, codes and answers),
        built from chunks of a full load: only each chunk is held as Python objects, the PDQ
        entries go straight into arrays (hash words, ids, codes) and the index is built once."""
        m = cls()
        words: list[npt.NDArray[np.uint64]] = []
        ids: list[npt.NDArray[np.bytes_]] = []
        banks: list[npt.NDArray[np.int32]] = []
        classes: list[npt.NDArray[np.int32]] = []
        held: list[npt.NDArray[np.bool_]] = []
        for chunk in chunks:
            pdq: list[EntryMeta] = []
            other: list[tuple[EntryMeta, bool]] = []
            for meta, live in chunk:
                if live:
                    if REGISTRY.get(meta.signal_type) is PDQ:
                        pdq.append(meta)
                    else:
                        other.append((meta, True))
            if other:
                m.apply(other, 0)  # exact-hash entries live in dictionaries either way
            if not pdq:
                continue
            words.append(hex_to_words([meta.value for meta in pdq]))
            ids.append(np.array([meta.entry_id.encode() for meta in pdq], dtype="S"))
            codes = [m._code(meta) for meta in pdq]
            banks.append(np.array([b for b, _ in codes], dtype=np.int32))
            classes.append(np.array([c for _, c in codes], dtype=np.int32))
            held.append(np.array([meta.quarantined for meta in pdq], dtype=bool))
            for meta in pdq:
                m._thresholds[meta.threshold] += 1
        if words:
            index = PDQIndex(capacity=max(1024, sum(len(w) for w in words)))
            index.add(np.concatenate(words))
            index.merge()
            m.index = index
            m._ids = EntryIds(np.concatenate(ids))
            m._slot_bank = np.concatenate(banks)
            m._slot_class = np.concatenate(classes)
            m._slot_quarantined = np.concatenate(held)
        m._set_max_threshold()
        m.seq = seq
        return m

    def _compact(self) -> None:
        """Rebuild the index from the live slots only (when removed slots outnumber live ones) and
        renumber the slot arrays; amortised over at least as many removals as live entries."""
        keep = self.index.live_slots()
        index = PDQIndex(capacity=max(1024, len(keep)))
        index.add(self.index.hashes(keep))
        index.merge()
        self._generation += 1
        self._slot_bank = self._slot_bank[keep]
        self._slot_class = self._slot_class[keep]
        self._slot_quarantined = self._slot_quarantined[keep]
        self._ids = EntryIds.of([self._ids.entry(k) for k in keep.tolist()])
        self.index = index
        self._generation += 1

    def _unchanged_hashes(self, entries: list[tuple[EntryMeta, bool]]) -> set[int]:
        """Positions of live PDQ upserts whose entry is indexed with the same hash already (a bank
        update restamps all its entries; they keep their slots instead of growing the index)."""
        pos = [i for i, (m, live) in enumerate(entries) if live and m.signal_type == "pdq" and m.entry_id in self._ids]
        if not pos:
            return set()
        stored = self.index.hashes([self._ids.slot(entries[i][0].entry_id) or 0 for i in pos])  # all present
        given = hex_to_words([entries[i][0].value for i in pos])
        return {i for i, eq in zip(pos, (stored == given).all(axis=1).tolist(), strict=True) if eq}

    def _drop(self, entry_id: str) -> None:
        slot = self._ids.pop(entry_id)
        if slot is not None:
            self.index.remove([slot])
            self._thresholds[self._banks[int(self._slot_bank[slot])][2]] -= 1
            return
        old = self._meta.pop(entry_id, None)
        if old is None:
            return
        bucket = self._exact.get((old.signal_type, old.value))
        if bucket is not None:
            bucket.discard(entry_id)
            if not bucket:
                del self._exact[(old.signal_type, old.value)]

    def _read_state(self) -> _ReadState:
        """The tables a search reads, all from one generation (see the class docstring)."""
        while True:
            g = self._generation
            if g % 2 == 0:
                state = _ReadState(
                    self.index.view,
                    self._ids,
                    self._slot_bank,
                    self._slot_class,
                    self._slot_quarantined,
                    self._banks,
                    self._classes,
                )
                if self._generation == g:
                    return state
            time.sleep(0)

    def match_exact(self, signal_type: str, value: str) -> list[Hit]:
        ids = tuple(self._exact.get((signal_type, value.lower()), ()))
        metas = [m for m in (self._meta.get(i) for i in sorted(ids)) if m is not None]
        return [Hit(m, 0, "original") for m in metas]

    def match_pdq(self, variants: list[tuple[str, str]]) -> list[Hit]:
        """Best hit per entry over the query variants, each within its bank's threshold."""
        return self.match_pdq_groups([variants])[0]

    def match_pdq_groups(self, groups: list[list[tuple[str, str]]]) -> list[list[Hit]]:
        """`match_pdq` for many items at once: every variant of every item in one index search
        (the lookup door's 1,000 hashes are one kernel call)."""
        out: list[list[Hit]] = [[] for _ in groups]
        flat = [(g, name, value) for g, variants in enumerate(groups) for name, value in variants]
        if not flat or not len(self._ids):
            return out
        st = self._read_state()
        words = hex_to_words([v for _, _, v in flat])
        bounds, slots, dists = self.index.search_batch_view(st.view, words, self.max_threshold)
        if not len(slots):
            return out
        # Keep hits within their own bank's threshold, of live entries.
        limits = np.array([b[2] for b in st.banks], dtype=np.int64)
        ok = dists <= limits[st.slot_bank[slots]]
        owner = np.repeat(np.arange(len(flat)), np.diff(bounds))
        best: list[dict[int, tuple[int, str]]] = [{} for _ in groups]
        for q, slot, dist in zip(owner[ok].tolist(), slots[ok].tolist(), dists[ok].tolist(), strict=True):
            if st.ids.entry(slot) is None:
                continue
            g, name, _ = flat[q]
            prev = best[g].get(slot)
            if prev is None or dist < prev[0]:
                best[g][slot] = (dist, name)
        metas = st.metas(sorted({slot for found in best for slot in found}))
        for g, found in enumerate(best):
            if found:
                hits = [Hit(metas[slot], d, n) for slot, (d, n) in found.items()]
                out[g] = sorted(hits, key=lambda h: (h.distance, h.entry.entry_id))
        return out

    def to_arrays(self) -> Arrays:
        """Everything the matcher holds as plain arrays (no pickle): the PDQ index, the entry of each
        slot, the exact-hash entries, and small tables of the banks' and classifications' values.

        The caller must keep `apply` from running until the arrays are written (the runtime holds
        its refresh lock); requests may keep matching meanwhile.
        """
        with self._lock:
            index = self.index.arrays()  # merges the delta, so the postings cover every slot
            n = self.index.slots
            self._grow_slots(n)
            out: Arrays = {f"index_{k}": v for k, v in index.items()}
            out["pdq_entry"] = self._ids.to_array(n)
            out["pdq_entry_order"] = np.argsort(out["pdq_entry"], kind="stable").astype(
                np.int32 if n < 2**31 else np.int64
            )
            out["pdq_bank"] = self._slot_bank[:n].copy()
            out["pdq_class"] = self._slot_class[:n].copy()
            out["pdq_quarantined"] = self._slot_quarantined[:n].copy()
            exact = list(self._meta.values())
            banks = list(self._banks)
            bank_code = dict(self._bank_code)
            classes = list(self._classes)
            class_code = dict(self._class_code)
            seq = self.seq
        for m in exact:  # exact entries may use banks or classifications no PDQ entry uses
            bank_code.setdefault((m.bank_id, m.bank_kind, m.threshold), len(banks))
            if len(bank_code) > len(banks):
                banks.append((m.bank_id, m.bank_kind, m.threshold))
            if m.classification not in class_code:
                class_code[m.classification] = len(classes)
                classes.append(m.classification)
        signals: dict[str, int] = {}
        out["exact_entry"] = np.array([m.entry_id.encode() for m in exact], dtype="S")
        out["exact_signal"] = np.array([signals.setdefault(m.signal_type, len(signals)) for m in exact], dtype=np.int32)
        out["exact_value"] = np.array([m.value.encode() for m in exact], dtype="S")
        out["exact_bank"] = np.array([bank_code[(m.bank_id, m.bank_kind, m.threshold)] for m in exact], dtype=np.int32)
        out["exact_class"] = np.array([class_code[m.classification] for m in exact], dtype=np.int32)
        out["exact_quarantined"] = np.array([m.quarantined for m in exact], dtype=bool)
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
        matcher._banks = list(
            zip(
                data["bank_id"].tolist(),
                data["bank_kind"].tolist(),
                [int(t) for t in data["bank_threshold"].tolist()],
                strict=True,
            )
        )
        matcher._bank_code = {b: i for i, b in enumerate(matcher._banks)}
        matcher._classes = [None, *data["class_name"].tolist()[1:]]
        matcher._class_code = {c: i for i, c in enumerate(matcher._classes)}
        n = matcher.index.slots
        columns = [data[k] for k in ("pdq_entry", "pdq_bank", "pdq_class", "pdq_quarantined")]
        if any(c.shape != (n,) for c in columns):
            raise ValueError("snapshot entry columns do not match the index")
        pdq_entry, bank, klass, quarantined = columns
        if n and (int(bank.min()) < -1 or int(bank.max()) >= len(matcher._banks)):
            raise ValueError("snapshot bank codes out of range")
        matcher._slot_bank = bank.astype(np.int32)
        matcher._slot_class = klass.astype(np.int32)
        matcher._slot_quarantined = quarantined.astype(bool)
        live = np.flatnonzero(pdq_entry != b"")
        order = data.get("pdq_entry_order")
        if order is not None and (order.shape != (n,) or (n and (int(order.min()) < 0 or int(order.max()) >= n))):
            raise ValueError("snapshot entry order does not match the index")
        matcher._ids = EntryIds(pdq_entry, order)  # snapshots before the order was written sort here
        matcher._thresholds = Counter(matcher._banks[b][2] for b in bank[live].tolist())
        matcher._set_max_threshold()
        signals = data["signal_name"].tolist()
        exact = [data[f"exact_{k}"].tolist() for k in ("entry", "signal", "value", "bank", "class", "quarantined")]
        for entry, signal, value, b, c, q in zip(*exact, strict=True):
            bank_id, kind, threshold = matcher._banks[b]
            m = EntryMeta(
                entry.decode(), bank_id, kind, signals[signal], value.decode(), matcher._classes[c], threshold, bool(q)
            )
            matcher._meta[m.entry_id] = m
            matcher._exact[(m.signal_type, m.value)].add(m.entry_id)
        matcher.seq = int(data["seq"])
        return matcher

    def stats(self) -> dict[str, int]:
        """Counts for /readyz, read without the writers' lock (a long import must not stall it)."""
        return {"entries": len(self), "pdq": len(self._ids), "exact": len(self._meta), "seq": self.seq}


@dataclass(frozen=True, slots=True)
class _ReadState:
    """What one search reads, captured together (`Matcher._read_state`)."""

    view: IndexView
    ids: EntryIds
    slot_bank: npt.NDArray[np.int32]
    slot_class: npt.NDArray[np.int32]
    slot_quarantined: npt.NDArray[np.bool_]
    banks: list[tuple[str, str, int]]
    classes: list[str | None]

    def metas(self, slots: list[int]) -> dict[int, EntryMeta]:
        """`meta` of many slots, their hex values formatted in one call."""
        if not slots:
            return {}
        v = self.view
        idx = np.asarray(slots, dtype=np.int64)
        inside = idx < v.indexed
        words = np.empty((len(slots), 4), dtype=np.uint64)
        words[inside] = v.base[idx[inside]]
        if not inside.all():
            words[~inside] = v.delta[idx[~inside] - v.indexed]
        text = words.astype(">u8").tobytes().hex()
        out = {}
        for i, slot in enumerate(slots):
            bank_id, kind, threshold = self.banks[int(self.slot_bank[slot])]
            out[slot] = EntryMeta(
                entry_id=self.ids.entry(slot) or "",
                bank_id=bank_id,
                bank_kind=kind,
                signal_type="pdq",
                value=text[64 * i : 64 * i + 64],
                classification=self.classes[int(self.slot_class[slot])],
                threshold=threshold,
                quarantined=bool(self.slot_quarantined[slot]),
            )
        return out

    def meta(self, slot: int) -> EntryMeta:
        bank_id, kind, threshold = self.banks[int(self.slot_bank[slot])]
        v = self.view
        word = v.base[slot] if slot < v.indexed else v.delta[slot - v.indexed]
        return EntryMeta(
            entry_id=self.ids.entry(slot) or "",
            bank_id=bank_id,
            bank_kind=kind,
            signal_type="pdq",
            value=words_to_hex(word)[0],
            classification=self.classes[int(self.slot_class[slot])],
            threshold=threshold,
            quarantined=bool(self.slot_quarantined[slot]),
        )


__all__ = ["EntryMeta", "Hit", "Matcher", "np"]
