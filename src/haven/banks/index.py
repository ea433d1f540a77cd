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
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import combinations
from pathlib import Path

import numpy as np
import numpy.typing as npt

from haven.banks import kernel as _kernel

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


@dataclass(frozen=True, slots=True)
class IndexView:
    """One consistent state of the index, published whole: a search reads only the view it took.

    Writers never change what a published view reads (copy-on-write): new hashes go past `size`
    in `delta`/`alive`, merges build new rows, and a removal only clears an `alive` flag. So
    searches take no lock, and a search that started before a change answers as before it.
    """

    base: U64  # (indexed, 4): the hashes of the indexed slots (may be a read-only memory map)
    delta: U64  # (>= size - indexed, 4): the hashes of the slots after them
    alive: npt.NDArray[np.bool_]  # (>= size,)
    size: int
    indexed: int
    layout: tuple[int, ...]
    starts: tuple[int, ...]
    post_rows: tuple[I32, ...]  # per chunk: the indexed slots sorted by the chunk's value
    off_rows: tuple[I32, ...]  # per chunk: 2^width + 1 bucket offsets into its postings row
    post_ptrs: I64  # the rows' addresses, for the compiled kernel
    off_ptrs: I64


def _view(
    base: U64,
    delta: U64,
    alive: npt.NDArray[np.bool_],
    size: int,
    layout: tuple[int, ...],
    post_rows: tuple[I32, ...],
    off_rows: tuple[I32, ...],
) -> IndexView:
    return IndexView(
        base=base,
        delta=delta,
        alive=alive,
        size=size,
        indexed=base.shape[0],
        layout=layout,
        starts=tuple(sum(layout[:c]) for c in range(len(layout))),
        post_rows=post_rows,
        off_rows=off_rows,
        post_ptrs=np.array([r.ctypes.data for r in post_rows], dtype=np.int64),
        off_ptrs=np.array([r.ctypes.data for r in off_rows], dtype=np.int64),
    )


def _empty_rows(layout: tuple[int, ...]) -> tuple[tuple[I32, ...], tuple[I32, ...]]:
    return (
        tuple(np.zeros(0, dtype=np.int32) for _ in layout),
        tuple(np.zeros((1 << w) + 1, dtype=np.int32) for w in layout),
    )


class PDQIndex:
    """Exact Hamming-radius search over 256-bit hashes (multi-index hashing + a brute-force delta).

    One writer at a time (the matcher serialises `add`, `remove`, `merge`); any number of
    concurrent searches, lock-free (see `IndexView`).
    """

    def __init__(self, capacity: int = 1024, delta_limit: int | None = None, chunk_bits: int | None = None) -> None:
        self._fixed_bits = chunk_bits
        self._fixed_delta_limit = delta_limit
        layout = layout_for(chunk_bits or 16)
        posts, offs = _empty_rows(layout)
        self._v = _view(
            np.zeros((0, 4), dtype=np.uint64),
            np.zeros((capacity, 4), dtype=np.uint64),
            np.zeros(capacity, dtype=bool),
            0,
            layout,
            posts,
            offs,
        )

    # -- size and memory -------------------------------------------------------------------------

    @property
    def view(self) -> IndexView:
        """The current state (what a search started now reads)."""
        return self._v

    def __len__(self) -> int:
        v = self._v
        return int(v.alive[: v.size].sum())

    @property
    def slots(self) -> int:
        return self._v.size

    @property
    def indexed(self) -> int:
        """Slots in the postings; the slots after them form the brute-force delta."""
        return self._v.indexed

    @property
    def layout(self) -> tuple[int, ...]:
        """Width in bits of each chunk table."""
        return self._v.layout

    @property
    def delta_limit(self) -> int:
        """Delta size that triggers a merge: scanning it stays well under the cost of the probes."""
        if self._fixed_delta_limit is not None:
            return self._fixed_delta_limit
        return max(4096, min(65536, self._v.indexed // 64))

    @property
    def nbytes(self) -> int:
        """Bytes held by the index's arrays (allocated capacity included)."""
        v = self._v
        rows = sum(r.nbytes for r in v.post_rows) + sum(r.nbytes for r in v.off_rows)
        return int(v.base.nbytes + v.delta.nbytes + v.alive.nbytes + rows)

    def live_slots(self) -> I64:
        """Slots holding a live hash, ascending."""
        v = self._v
        return np.flatnonzero(v.alive[: v.size]).astype(np.int64)

    def hashes(self, slots: npt.ArrayLike) -> U64:
        """The stored hashes of some slots, as (k, 4) uint64 rows."""
        v = self._v
        s = np.asarray(slots, dtype=np.int64).reshape(-1)
        out = np.empty((len(s), 4), dtype=np.uint64)
        old = s < v.indexed
        out[old] = v.base[s[old]]
        out[~old] = v.delta[s[~old] - v.indexed]
        return out

    # -- updates (one writer) --------------------------------------------------------------------

    def add(self, words: U64) -> I64:
        """Append hashes; returns their slot numbers. Merges the delta into the postings when it is large."""
        words = np.atleast_2d(np.asarray(words, dtype=np.uint64)).reshape(-1, 4)
        n = words.shape[0]
        v = self._v
        start, nd = v.size, v.size - v.indexed
        delta, alive = v.delta, v.alive
        if nd + n > delta.shape[0]:  # grown copies: a search holding the old view keeps its arrays
            delta = np.zeros((max(nd + n, nd + nd // 2, 1024), 4), dtype=np.uint64)
            delta[:nd] = v.delta[:nd]
        if start + n > alive.shape[0] or not alive.flags.writeable:
            alive = np.zeros(max(start + n, start + start // 8, 1024), dtype=bool)
            alive[:start] = v.alive[:start]
        delta[nd : nd + n] = words  # past the published size: no search reads these rows yet
        alive[start : start + n] = True
        self._v = replace(v, delta=delta, alive=alive, size=start + n)
        if self._v.size - self._v.indexed > self.delta_limit:
            self.merge()
        return np.arange(start, start + n, dtype=np.int64)

    def remove(self, slots: npt.ArrayLike) -> None:
        v = self._v
        if not v.alive.flags.writeable:  # a memory-mapped snapshot: the flags become this process's own
            self._v = v = replace(v, alive=v.alive.copy())
        v.alive[np.asarray(slots, dtype=np.int64)] = False

    def merge(self) -> None:
        """Fold the delta into the postings: a full build when it is large, else an insertion.

        Either way the new rows are new arrays, published together when complete."""
        v = self._v
        new = v.size - v.indexed
        if new <= 0:
            return
        if new * 8 >= v.indexed:
            self._v = self._build(v)
        else:
            self._v = self._insert(v)

    def _build(self, v: IndexView) -> IndexView:
        """Choose the chunk layout for the size reached, then bucket every slot by each chunk value."""
        n = v.size
        words = np.concatenate([v.base, v.delta[: n - v.indexed]])
        layout = layout_for(self._fixed_bits or chunk_bits_for(n))
        posts: list[I32] = []
        offs: list[I32] = []
        start = 0
        for width in layout:
            col = _chunk_column(words, start, width)
            posts.append(_sort_by(col).astype(np.int32))
            row = np.zeros((1 << width) + 1, dtype=np.int32)
            row[1:] = np.cumsum(np.bincount(col, minlength=1 << width))
            offs.append(row)
            start += width
        return _view(words, np.zeros((1024, 4), np.uint64), v.alive, n, layout, tuple(posts), tuple(offs))

    def _insert(self, v: IndexView) -> IndexView:
        """Insert the delta's slots at the end of their buckets, row by row (new rows, linear)."""
        old, n = v.indexed, v.size
        added = v.delta[: n - old]
        slots = np.arange(old, n, dtype=np.int32)
        posts: list[I32] = []
        offs: list[I32] = []
        for c, width in enumerate(v.layout):
            col = _chunk_column(added, v.starts[c], width)
            order = np.argsort(col, kind="stable")
            row = v.off_rows[c]
            at = row[col[order].astype(np.int64) + 1]
            posts.append(np.insert(v.post_rows[c][:old], at, slots[order]))
            offs.append(row + np.concatenate([[0], np.cumsum(np.bincount(col, minlength=1 << width))]).astype(np.int32))
        words = np.concatenate([v.base, added])
        return _view(words, np.zeros((1024, 4), np.uint64), v.alive, n, v.layout, tuple(posts), tuple(offs))

    # -- search ----------------------------------------------------------------------------------

    def search(self, query: U64, radius: int) -> Result:
        """Slots (ascending) and distances of live hashes within `radius` of one query (4 uint64 words)."""
        _, slots, dists = self.search_batch(np.asarray(query, dtype=np.uint64).reshape(1, 4), radius)
        return slots, dists

    def search_many(self, queries: U64, radius: int) -> list[Result]:
        """`search` for each query, in one batch."""
        bounds, slots, dists = self.search_batch(queries, radius)
        b = bounds.tolist()
        return [(slots[b[i] : b[i + 1]], dists[b[i] : b[i + 1]]) for i in range(len(b) - 1)]

    def search_flat(self, queries: U64, radius: int) -> tuple[I64, I64, I64]:
        """`search_many` as three flat arrays (query number, slot, distance), ordered by query then
        slot: no Python object per query, for callers that scan many queries with few hits
        (retroaction queries a million past uploads against the new entries)."""
        bounds, slots, dists = self.search_batch(queries, radius)
        return np.repeat(np.arange(len(bounds) - 1, dtype=np.int64), np.diff(bounds)), slots, dists

    def search_batch(self, queries: U64, radius: int, *, use_kernel: bool | None = None) -> tuple[I64, I64, I64]:
        """Every query's hits as flat arrays: query i's slots (ascending) and distances are
        `slots[bounds[i]:bounds[i + 1]]`. Runs the compiled kernel when it is built (without the
        GIL), else NumPy; both give the same answer. `use_kernel` forces one (for tests)."""
        return self.search_batch_view(self._v, queries, radius, use_kernel=use_kernel)

    @staticmethod
    def search_batch_view(
        v: IndexView, queries: U64, radius: int, *, use_kernel: bool | None = None
    ) -> tuple[I64, I64, I64]:
        """`search_batch` on a view taken earlier (the matcher reads its tables with the view)."""
        qs = np.ascontiguousarray(np.atleast_2d(np.asarray(queries, dtype=np.uint64)).reshape(-1, 4))
        nq = qs.shape[0]
        if nq == 0 or radius < 0 or v.size == 0:
            return np.zeros(nq + 1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
        radius = min(radius, HASH_BITS)
        plan = _probe_plan(v.layout, radius)
        kernel = _kernel.load() if use_kernel is not False else None
        if use_kernel and kernel is None:
            raise RuntimeError("the compiled kernel is not built (make install)")
        if kernel is not None:
            return kernel.search(v, qs, radius, _kernel_plan(v.layout, radius), BRUTE_FORCE_SHARE * v.indexed)
        return _numpy_search(v, qs, radius, plan)

    # -- persistence -----------------------------------------------------------------------------

    def arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        """The index as plain arrays (what `save` writes); the postings are kept so loading is instant."""
        self.merge()
        v = self._v
        n = v.size
        return {
            "words": v.base,
            "alive": v.alive[:n],
            "layout": np.array(v.layout, dtype=np.int64),
            "postings": np.stack(v.post_rows) if v.post_rows and n else np.zeros((len(v.layout), n), np.int32),
            "offsets": np.concatenate(v.off_rows),
        }

    def save(self, path: Path) -> None:
        """Save as plain arrays (`.npz`, no pickle)."""
        np.savez(path, **self.arrays())  # type: ignore[arg-type]

    @classmethod
    def from_arrays(cls, data: dict[str, npt.NDArray[np.generic]] | np.lib.npyio.NpzFile) -> PDQIndex:
        """Rebuild an index from `arrays()` output, checking that the arrays fit together.

        The hashes and postings are used as given, not copied: arrays opened with
        `np.load(..., mmap_mode="r")` stay shared by every process that maps the same file."""
        words = np.asarray(data["words"])
        if words.dtype != np.uint64 or words.ndim != 2 or words.shape[1] != 4:
            words = np.asarray(words, dtype=np.uint64).reshape(-1, 4)
        alive = np.asarray(data["alive"], dtype=bool)
        layout = tuple(int(w) for w in np.asarray(data["layout"]))
        postings = np.asarray(data["postings"])
        offsets = np.asarray(data["offsets"])
        if postings.dtype != np.int32 or offsets.dtype != np.int32:
            raise ValueError("index postings and offsets must be int32")
        n = words.shape[0]
        if sum(layout) != HASH_BITS or not all(8 <= w <= 26 for w in layout):
            raise ValueError("index layout does not split 256 bits into 8..26-bit chunks")
        m = len(layout)
        sizes = [(1 << w) + 1 for w in layout]
        if alive.shape != (n,) or postings.shape != (m, n) or offsets.shape != (sum(sizes),):
            raise ValueError("index arrays have inconsistent shapes")
        bounds = np.cumsum([0, *sizes])
        off_rows = tuple(offsets[bounds[c] : bounds[c + 1]] for c in range(m))
        if n and not all(int(r[-1]) == n for r in off_rows):
            raise ValueError("index offsets do not cover the stored hashes")
        if n and (int(postings.min()) < 0 or int(postings.max()) >= n):
            raise ValueError("index postings point outside the stored hashes")
        index = cls(capacity=0)
        index._v = _view(
            words, np.zeros((1024, 4), np.uint64), alive, n, layout, tuple(postings[c] for c in range(m)), off_rows
        )
        return index

    @classmethod
    def load(cls, path: Path) -> PDQIndex:
        with np.load(path, allow_pickle=False) as data:
            return cls.from_arrays({k: data[k] for k in data.files})


@lru_cache(maxsize=1024)
def _kernel_plan(layout: tuple[int, ...], radius: int) -> tuple[npt.NDArray[np.int32], I64] | None:
    plan = _probe_plan(layout, radius)
    if plan is None:
        return None
    return plan[0].astype(np.int32), np.ascontiguousarray(plan[1], dtype=np.int64)


def _brute_rows(words: U64, qs: U64, radius: int) -> tuple[I64, I64, I64]:
    """(query, row, distance) of every row of `words` within `radius` of each query (chunked)."""
    qi: list[I64] = []
    ri: list[I64] = []
    di: list[I64] = []
    if words.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    step = max(1, BATCH_PAIRS // words.shape[0])
    for lo in range(0, qs.shape[0], step):
        part = qs[lo : lo + step]
        x = words[None, :, :] ^ part[:, None, :]
        dist = _popcount_rows(x.reshape(-1, 4)).reshape(len(part), -1)
        q, r = np.nonzero(dist <= radius)
        qi.append(q.astype(np.int64) + lo)
        ri.append(r.astype(np.int64))
        di.append(dist[q, r])
    return np.concatenate(qi), np.concatenate(ri), np.concatenate(di)


def _numpy_search(v: IndexView, qs: U64, radius: int, plan: tuple[I64, I64] | None) -> tuple[I64, I64, I64]:
    """The NumPy path of `search_batch`: the same probes, candidates and verification, vectorised
    across the batch chunk by chunk; queries whose buckets are too full are brute-forced."""
    nq = qs.shape[0]
    owners: list[I64] = []
    slots: list[I64] = []
    dists: list[I64] = []
    brute = np.ones(nq, dtype=bool) if plan is None or v.indexed == 0 else np.zeros(nq, dtype=bool)
    if not brute.all():
        assert plan is not None
        chunk_no, masks = plan
        ranges: list[tuple[int, I64, I64]] = []
        totals = np.zeros(nq, dtype=np.int64)
        for c, width in enumerate(v.layout):
            mk = masks[chunk_no == c]
            if not len(mk):
                continue
            vals = _chunk_column(qs, v.starts[c], width).astype(np.int64)[:, None] ^ mk[None, :]
            st = v.off_rows[c][vals].astype(np.int64)
            ln = v.off_rows[c][vals + 1] - st
            totals += ln.sum(axis=1)
            ranges.append((c, st, ln))
        brute = totals > BRUTE_FORCE_SHARE * v.indexed
        probe = np.flatnonzero(~brute)
        # Groups of queries of about BATCH_PAIRS candidates each bound the temporaries.
        ends = np.cumsum(totals[probe])
        group = ends // BATCH_PAIRS
        for g in np.unique(group).tolist():
            sel = probe[group == g]
            for c, st, ln in ranges:
                lens = ln[sel]
                cand = v.post_rows[c][_expand(st[sel].ravel(), lens.ravel())].astype(np.int64)
                owner = np.repeat(sel, lens.sum(axis=1))
                x = np.take(v.base, cand, axis=0)
                np.bitwise_xor(x, qs[owner], out=x)
                dist = _popcount_rows(x)
                keep = (dist <= radius) & v.alive[cand]
                owners.append(owner[keep])
                slots.append(cand[keep])
                dists.append(dist[keep])
    hit_q, hit_r, hit_d = _brute_rows(v.base, qs[brute], radius) if brute.any() else (None, None, None)
    if hit_q is not None and hit_r is not None and hit_d is not None:
        keep = v.alive[hit_r]
        owners.append(np.flatnonzero(brute)[hit_q[keep]])
        slots.append(hit_r[keep])
        dists.append(hit_d[keep])
    nd = v.size - v.indexed
    if nd:
        dq, dr, dd = _brute_rows(v.delta[:nd], qs, radius)
        keep = v.alive[dr + v.indexed]
        owners.append(dq[keep])
        slots.append(dr[keep] + v.indexed)
        dists.append(dd[keep])
    if not slots:
        return np.zeros(nq + 1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    o, s, d = np.concatenate(owners), np.concatenate(slots), np.concatenate(dists)
    _, first = np.unique(o * max(v.size, 1) + s, return_index=True)  # sorted by query, then slot
    o, s, d = o[first], s[first], d[first]
    return np.searchsorted(o, np.arange(nq + 1)).astype(np.int64), s, d.astype(np.int64)


def _popcount_rows(x: U64) -> I64:
    """Hamming weight of each (4 x uint64) row: per-word popcounts summed as uint16 (a 256 fits)."""
    counts = np.bitwise_count(x)
    total = counts[:, 0].astype(np.uint16)
    total += counts[:, 1]
    total += counts[:, 2]
    total += counts[:, 3]
    return total.astype(np.int64)
