"""The exact PDQ index: every stored hash within a radius of the query, exactly as brute force finds.

Algorithm: multi-index hashing (Norouzi, Punjani and Fleet, 2012). The 256-bit hash is cut into
m disjoint chunks. By pigeonhole, a hash within distance r = t*m + rest of the query is within
t bits of the query on one of any (rest + 1) chunks, or within t - 1 bits on one of the others.
So probing each chunk table at every value within that many bits of the query's chunk finds
every match; each candidate is then verified with a popcount of the full hash, so the answer is
exact. With 16 chunks of 16 bits and r = 31 that is the classic 17 probes per table. Chunks are
about log2(n) - 2 bits wide (16 bits up to a few hundred thousand hashes, 21/22 bits at ten
million): sparser buckets, fewer random reads per query (see docs/matching.md for the measured
choice). When the probes would touch too much of the index (large radii) the search falls back
to brute force, which is exact too.

Layout, all plain NumPy arrays (so the index saves as `.npz` and loads without pickle):

- `words`: (capacity, 4) uint64, the hashes by slot (32 bytes each); `alive`: (capacity,) bool.
- `postings`: (m, posting capacity) int32; row c lists the indexed slots sorted by the value of
  chunk c (CSR), and `offsets[c][v] : offsets[c][v + 1]` (int32, 2^w + 1 per table) is the
  bucket of value v.

That is 32 + 1 + 4m bytes per hash plus the offsets: about 100 bytes per hash at ten million.

Updates never rebuild: new hashes go to a small brute-force "delta" (slots past `indexed`) that
every search also scans; when it passes `delta_limit` it is merged into the postings by an
insertion that is linear in the index size (or, for a delta as large as an eighth of the index,
a full build with the layout for the new size). Removing a hash clears its `alive` flag. Slots
are never reused, so slot numbers stay stable for the caller.

This module is pure: no database, no settings.
"""

from __future__ import annotations

import math
from functools import lru_cache
from itertools import combinations, pairwise
from pathlib import Path

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
Result = tuple[I64, I64]

HASH_BITS = 256
#: Fall back to brute force when the probes would verify more than this share of the slots.
BRUTE_FORCE_SHARE = 0.25
#: Fall back to brute force when a radius needs more probes than this (very large radii).
MAX_PROBES = 50_000
#: Candidate pairs verified at once by `search_many` (bounds its temporary memory to ~100 MB).
BATCH_PAIRS = 1 << 18


def hex_to_words(values: list[str]) -> U64:
    """Hex PDQ strings to an (n, 4) uint64 array (big-endian words, so bit order is kept)."""
    if not values:
        return np.zeros((0, 4), dtype=np.uint64)
    raw = np.frombuffer(bytes.fromhex("".join(values)), dtype=">u8").reshape(-1, 4)
    return raw.astype(np.uint64)


def words_to_hex(words: U64) -> list[str]:
    return [row.astype(">u8").tobytes().hex() for row in np.atleast_2d(words)]


def chunk_bits_for(n: int) -> int:
    """Chunk width for n hashes: about log2(n) - 2 bits (a few hashes per bucket), 16 to 24.

    Wider chunks mean fewer candidates to verify but more probes and larger offset tables
    (4 bytes x 2^bits per chunk); see docs/matching.md for the measurements behind this rule.
    """
    if n <= 1:
        return 16
    return int(min(22, max(16, round(math.log2(n)) - 2)))


def layout_for(bits: int) -> tuple[int, ...]:
    """Split 256 bits into 256 // bits chunks as even as possible (the wider ones first)."""
    m = HASH_BITS // bits
    base, extra = divmod(HASH_BITS, m)
    return tuple(base + 1 if i < extra else base for i in range(m))


def _chunk_column(words: U64, start: int, width: int) -> npt.NDArray[np.uint32]:
    """Bits [start, start + width) of each 256-bit hash (bit 0 = most significant), as uint32."""
    i, off = divmod(start, 64)
    w0 = words[:, i]
    if off + width <= 64:
        out = (w0 >> np.uint64(64 - off - width)) & np.uint64((1 << width) - 1)
    else:
        lo = off + width - 64
        out = ((w0 & np.uint64((1 << (64 - off)) - 1)) << np.uint64(lo)) | (words[:, i + 1] >> np.uint64(64 - lo))
    return out.astype(np.uint32)


@lru_cache(maxsize=64)
def _flip_masks(width: int, max_bits: int) -> npt.NDArray[np.int64]:
    """Every `width`-bit mask with at most `max_bits` bits set (the probes around a chunk value)."""
    masks = [0]
    for k in range(1, max_bits + 1):
        masks.extend(sum(1 << b for b in bits) for bits in combinations(range(width), k))
    return np.array(masks, dtype=np.int64)


def _count_masks(width: int, max_bits: int) -> int:
    return sum(math.comb(width, k) for k in range(max_bits + 1))


@lru_cache(maxsize=1024)
def _probe_plan(layout: tuple[int, ...], radius: int) -> tuple[I64, I64] | None:
    """(chunk number, flip mask) of every probe a radius needs, or None where brute force is cheaper.

    Refined pigeonhole: with m chunks and r = t*m + rest, a hash within r of the query is within
    t bits on one of any (rest + 1) chunks, or within t - 1 bits on one of the others (else the
    distance would be at least (rest + 1)(t + 1) + (m - rest - 1)t = r + 1). The wider chunks,
    whose buckets are sparser, take the larger radius.
    """
    m = len(layout)
    t, rest = divmod(radius, m)
    order = sorted(range(m), key=lambda c: -layout[c])
    bits = {c: (t if k <= rest else t - 1) for k, c in enumerate(order)}
    if sum(_count_masks(layout[c], b) for c, b in bits.items() if b >= 0) > MAX_PROBES:
        return None
    chunks: list[I64] = []
    masks: list[I64] = []
    for c in range(m):
        if bits[c] < 0:
            continue
        mk = _flip_masks(layout[c], bits[c])
        chunks.append(np.full(len(mk), c, dtype=np.int64))
        masks.append(mk)
    return np.concatenate(chunks), np.concatenate(masks)


def _expand(starts: I64, lengths: I64) -> I64:
    """Concatenate the integer ranges [start, start + length) without a Python loop."""
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if len(ends) else 0
    shift = np.repeat(starts - (ends - lengths), lengths)
    return np.arange(total, dtype=np.int64) + shift


def _sort_by(values: npt.NDArray[np.uint32]) -> I64:
    """A permutation sorting uint32 values: two stable 16-bit radix passes (much faster than a comparison sort)."""
    low = np.argsort((values & 0xFFFF).astype(np.uint16), kind="stable")
    high = np.argsort((values[low] >> 16).astype(np.uint16), kind="stable")
    return low[high]


class PDQIndex:
    """Exact Hamming-radius search over 256-bit hashes (multi-index hashing + a brute-force delta)."""

    def __init__(self, capacity: int = 1024, delta_limit: int | None = None, chunk_bits: int | None = None) -> None:
        self._words: U64 = np.zeros((capacity, 4), dtype=np.uint64)
        self._alive: npt.NDArray[np.bool_] = np.zeros(capacity, dtype=bool)
        self._size = 0
        self._fixed_bits = chunk_bits
        self._set_layout(layout_for(chunk_bits or 16))
        self._postings: I32 = np.zeros((len(self._layout), 0), dtype=np.int32)
        self._indexed = 0
        self._fixed_delta_limit = delta_limit

    def _set_layout(self, layout: tuple[int, ...]) -> None:
        self._layout = layout
        self._starts = [sum(layout[:c]) for c in range(len(layout))]
        sizes = [(1 << w) + 1 for w in layout]
        self._offbase = np.array([sum(sizes[:c]) for c in range(len(layout))], dtype=np.int64)
        self._offsets: I32 = np.zeros(sum(sizes), dtype=np.int32)

    # -- size and memory -------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._alive[: self._size].sum())

    @property
    def slots(self) -> int:
        return self._size

    @property
    def indexed(self) -> int:
        """Slots in the postings; the slots after them form the brute-force delta."""
        return self._indexed

    @property
    def layout(self) -> tuple[int, ...]:
        """Width in bits of each chunk table."""
        return self._layout

    @property
    def delta_limit(self) -> int:
        """Delta size that triggers a merge: scanning it stays well under the cost of the probes."""
        if self._fixed_delta_limit is not None:
            return self._fixed_delta_limit
        return max(4096, min(65536, self._indexed // 64))

    @property
    def nbytes(self) -> int:
        """Bytes held by the index's arrays (allocated capacity included)."""
        return int(self._words.nbytes + self._alive.nbytes + self._postings.nbytes + self._offsets.nbytes)

    def live_slots(self) -> I64:
        """Slots holding a live hash, ascending."""
        return np.flatnonzero(self._alive[: self._size]).astype(np.int64)

    def hashes(self, slots: npt.ArrayLike) -> U64:
        """The stored hashes of some slots, as (k, 4) uint64 rows."""
        return self._words[np.asarray(slots, dtype=np.int64)].copy()

    # -- updates ---------------------------------------------------------------------------------

    def _grow(self, need: int) -> None:
        cap = self._words.shape[0]
        if need <= cap:
            return
        new_cap = max(need, cap + cap // 2)
        words = np.zeros((new_cap, 4), dtype=np.uint64)
        words[: self._size] = self._words[: self._size]
        alive = np.zeros(new_cap, dtype=bool)
        alive[: self._size] = self._alive[: self._size]
        self._words, self._alive = words, alive

    def add(self, words: U64) -> I64:
        """Append hashes; returns their slot numbers. Merges the delta into the postings when it is large."""
        words = np.atleast_2d(np.asarray(words, dtype=np.uint64))
        n = words.shape[0]
        self._grow(self._size + n)
        start = self._size
        self._words[start : start + n] = words
        self._alive[start : start + n] = True
        self._size += n
        if self._size - self._indexed > self.delta_limit:
            self.merge()
        return np.arange(start, start + n, dtype=np.int64)

    def remove(self, slots: npt.ArrayLike) -> None:
        self._alive[np.asarray(slots, dtype=np.int64)] = False

    def merge(self) -> None:
        """Fold the delta into the postings: a full build when it is large, else an in-place insertion."""
        new = self._size - self._indexed
        if new <= 0:
            return
        if new * 8 >= self._indexed:
            self._build()
        else:
            self._insert()
        self._indexed = self._size

    def _offset_row(self, c: int) -> I32:
        base = int(self._offbase[c])
        return self._offsets[base : base + (1 << self._layout[c]) + 1]

    def _build(self) -> None:
        """Choose the chunk layout for the size reached, then bucket every slot by each chunk value."""
        n = self._size
        self._set_layout(layout_for(self._fixed_bits or chunk_bits_for(n)))
        self._postings = np.zeros((len(self._layout), n + n // 8), dtype=np.int32)
        for c, width in enumerate(self._layout):
            col = _chunk_column(self._words[:n], self._starts[c], width)
            self._postings[c, :n] = _sort_by(col)
            row = self._offset_row(c)
            row[1:] = np.cumsum(np.bincount(col, minlength=1 << width))

    def _insert(self) -> None:
        """Insert the delta's slots at the end of their buckets, row by row (linear, small temporaries)."""
        old, n = self._indexed, self._size
        if self._postings.shape[1] < n:
            grown = np.zeros((len(self._layout), n + n // 4), dtype=np.int32)
            grown[:, :old] = self._postings[:, :old]
            self._postings = grown
        slots = np.arange(old, n, dtype=np.int32)
        for c, width in enumerate(self._layout):
            col = _chunk_column(self._words[old:n], self._starts[c], width)
            order = np.argsort(col, kind="stable")
            row = self._offset_row(c)
            at = row[col[order].astype(np.int64) + 1]
            self._postings[c, :n] = np.insert(self._postings[c, :old], at, slots[order])
            row[1:] += np.cumsum(np.bincount(col, minlength=1 << width)).astype(np.int32)

    # -- search ----------------------------------------------------------------------------------

    def _query_chunks(self, queries: U64) -> I64:
        """(queries, chunks) values of the query hashes."""
        return np.stack(
            [_chunk_column(queries, self._starts[c], w) for c, w in enumerate(self._layout)], axis=1
        ).astype(np.int64)

    def _one_query_chunks(self, query: U64) -> I64:
        """The same for one query with Python integers (cheaper than NumPy calls per chunk)."""
        value = int.from_bytes(query.astype(">u8").tobytes(), "big")
        return np.array(
            [
                [
                    (value >> (HASH_BITS - s - w)) & ((1 << w) - 1)
                    for s, w in zip(self._starts, self._layout, strict=True)
                ]
            ],
            dtype=np.int64,
        )

    def _ranges(self, qchunks: I64, plan: tuple[I64, I64]) -> tuple[I64, I64]:
        """Start (in the flat postings) and length of every probed bucket: (queries, probes) arrays."""
        chunk_no, masks = plan
        flat = self._offbase[chunk_no] + (qchunks[:, chunk_no] ^ masks)
        starts = self._offsets[flat].astype(np.int64)
        lengths = self._offsets[flat + 1] - starts
        return starts + chunk_no * self._postings.shape[1], lengths

    def _gather(self, starts: I64, lengths: I64) -> I64:
        return self._postings.ravel()[_expand(starts.ravel(), lengths.ravel())].astype(np.int64)

    def _verify(self, cand: I64, query: U64, radius: int) -> Result:
        x = np.take(self._words, cand, axis=0)
        np.bitwise_xor(x, query, out=x)
        dist = _popcount_rows(x)
        keep = (dist <= radius) & self._alive[cand]
        return cand[keep], dist[keep]

    def _brute(self, query: U64, radius: int, lo: int, hi: int) -> Result:
        x = self._words[lo:hi] ^ query
        dist = _popcount_rows(x)
        hit = np.flatnonzero((dist <= radius) & self._alive[lo:hi])
        return hit.astype(np.int64) + lo, dist[hit]

    def search(self, query: U64, radius: int) -> Result:
        """Slots (ascending) and distances of live hashes within `radius` of one query (4 uint64 words)."""
        q = np.asarray(query, dtype=np.uint64).reshape(1, 4)
        if radius < 0 or self._size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        plan = _probe_plan(self._layout, min(radius, HASH_BITS))
        if plan is None or self._indexed == 0:
            slots, dists = self._brute(q, radius, 0 if plan is None else self._indexed, self._size)
            return slots, dists
        starts, lengths = self._ranges(self._one_query_chunks(q), plan)
        if lengths.sum() > BRUTE_FORCE_SHARE * self._indexed:
            return self._brute(q, radius, 0, self._size)
        slots, dists = self._verify(self._gather(starts, lengths), q, radius)
        if self._size > self._indexed:
            ds, dd = self._brute(q, radius, self._indexed, self._size)
            slots, dists = np.concatenate([slots, ds]), np.concatenate([dists, dd])
        slots, first = np.unique(slots, return_index=True)  # a near hash shows up in several chunks
        return slots, dists[first]

    def search_many(self, queries: U64, radius: int) -> list[Result]:
        """`search` for each query, vectorised across the batch (much faster per query than a loop)."""
        qs = np.atleast_2d(np.asarray(queries, dtype=np.uint64)).reshape(-1, 4)
        nq = qs.shape[0]
        if nq == 0:
            return []
        owners, slots, dists = self.search_flat(qs, radius)
        bounds = np.searchsorted(owners, np.arange(nq + 1))
        return [(slots[bounds[i] : bounds[i + 1]], dists[bounds[i] : bounds[i + 1]]) for i in range(nq)]

    def search_flat(self, queries: U64, radius: int) -> tuple[I64, I64, I64]:
        """`search_many` as three flat arrays (query number, slot, distance), ordered by query then
        slot: no Python object per query, for callers that scan many queries with few hits
        (retroaction queries a million past uploads against the new entries)."""
        qs = np.atleast_2d(np.asarray(queries, dtype=np.uint64)).reshape(-1, 4)
        nq = qs.shape[0]
        empty = np.zeros(0, np.int64)
        if nq == 0:
            return empty, empty, empty
        plan = _probe_plan(self._layout, min(max(radius, 0), HASH_BITS))
        fallback = radius < 0 or self._size == 0 or self._indexed == 0 or plan is None
        if not fallback:
            assert plan is not None
            starts, lengths = self._ranges(self._query_chunks(qs), plan)
            totals = lengths.sum(axis=1)
            fallback = bool(totals.sum() > BRUTE_FORCE_SHARE * self._indexed * nq)
        if fallback:
            found = [self.search(q, radius) for q in qs]
            owners_list = [np.full(len(s), i, dtype=np.int64) for i, (s, _) in enumerate(found)]
            return (
                np.concatenate(owners_list) if owners_list else empty,
                np.concatenate([s for s, _ in found]).astype(np.int64),
                np.concatenate([d for _, d in found]).astype(np.int64),
            )
        # Split the batch so each part verifies about BATCH_PAIRS candidate pairs.
        ends = np.cumsum(totals)
        cuts = [0]
        while cuts[-1] < nq:
            done = int(ends[cuts[-1] - 1]) if cuts[-1] else 0
            cuts.append(max(cuts[-1] + 1, int(np.searchsorted(ends, done + BATCH_PAIRS, side="right"))))
        cuts[-1] = min(cuts[-1], nq)
        slot_parts: list[I64] = []
        owner_parts: list[I64] = []
        dist_parts: list[I64] = []
        for lo, hi in pairwise(cuts):
            cand = self._gather(starts[lo:hi], lengths[lo:hi])
            owner = np.repeat(np.arange(lo, hi, dtype=np.int64), totals[lo:hi])
            x = np.take(self._words, cand, axis=0)
            np.bitwise_xor(x, np.repeat(qs[lo:hi], totals[lo:hi], axis=0), out=x)
            dist = _popcount_rows(x)
            keep = (dist <= radius) & self._alive[cand]
            slot_parts.append(cand[keep])
            owner_parts.append(owner[keep])
            dist_parts.append(dist[keep])
        if self._size > self._indexed:
            for i, q in enumerate(qs):
                s, d = self._brute(q, radius, self._indexed, self._size)
                slot_parts.append(s)
                owner_parts.append(np.full(len(s), i, dtype=np.int64))
                dist_parts.append(d)
        slots = np.concatenate(slot_parts)
        owners = np.concatenate(owner_parts)
        dists = np.concatenate(dist_parts)
        _, first = np.unique(owners * max(self._size, 1) + slots, return_index=True)
        return owners[first], slots[first], dists[first]

    # -- persistence -----------------------------------------------------------------------------

    def arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        """The index as plain arrays (what `save` writes); the postings are kept so loading is instant."""
        self.merge()
        n = self._size
        return {
            "words": self._words[:n],
            "alive": self._alive[:n],
            "layout": np.array(self._layout, dtype=np.int64),
            "postings": self._postings[:, :n],
            "offsets": self._offsets,
        }

    def save(self, path: Path) -> None:
        """Save as plain arrays (`.npz`, no pickle)."""
        np.savez(path, **self.arrays())  # type: ignore[arg-type]

    @classmethod
    def from_arrays(cls, data: dict[str, npt.NDArray[np.generic]] | np.lib.npyio.NpzFile) -> PDQIndex:
        """Rebuild an index from `arrays()` output, checking that the arrays fit together."""
        words = np.asarray(data["words"], dtype=np.uint64).reshape(-1, 4)
        alive = np.asarray(data["alive"], dtype=bool)
        layout = tuple(int(w) for w in np.asarray(data["layout"]))
        postings = np.asarray(data["postings"], dtype=np.int32)
        offsets = np.asarray(data["offsets"], dtype=np.int32)
        n = words.shape[0]
        if sum(layout) != HASH_BITS or not all(8 <= w <= 26 for w in layout):
            raise ValueError("index layout does not split 256 bits into 8..26-bit chunks")
        index = cls(capacity=max(1024, n))
        index._set_layout(layout)
        m = len(layout)
        if alive.shape != (n,) or postings.shape != (m, n) or offsets.shape != index._offsets.shape:
            raise ValueError("index arrays have inconsistent shapes")
        ends = offsets[index._offbase + (1 << np.array(layout, dtype=np.int64))]
        if n and not (ends == n).all():
            raise ValueError("index offsets do not cover the stored hashes")
        if n and (postings.min() < 0 or postings.max() >= n):
            raise ValueError("index postings point outside the stored hashes")
        index._words[:n] = words
        index._alive[:n] = alive
        index._size = index._indexed = n
        index._postings = np.zeros((m, n + n // 8), dtype=np.int32)
        index._postings[:, :n] = postings
        index._offsets[:] = offsets
        return index

    @classmethod
    def load(cls, path: Path) -> PDQIndex:
        with np.load(path, allow_pickle=False) as data:
            return cls.from_arrays(data)


def _popcount_rows(x: U64) -> I64:
    """Hamming weight of each (4 x uint64) row: per-word popcounts summed as uint16 (a 256 fits)."""
    counts = np.bitwise_count(x)
    total = counts[:, 0].astype(np.uint16)
    total += counts[:, 1]
    total += counts[:, 2]
    total += counts[:, 3]
    return total.astype(np.int64)
