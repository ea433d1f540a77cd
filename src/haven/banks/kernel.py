"""The compiled matching kernel (`_pdqkernel.c`) behind `PDQIndex.search_batch`, through ctypes.

Why C through ctypes: the probing loop is a few thousand bucket reads and 256-bit popcounts per
query, which NumPy can only do as many small vectorised calls (per query, or per chunk across a
batch); in C it is one pass with no temporaries. ctypes releases the GIL during the call, so two
request threads match at once, and the library needs nothing but a C compiler at install time
(`make install` runs scripts/build_kernel.sh); no Python headers, no extra build dependency.
Where the library is missing (no compiler, or `HAVEN_PDQ_KERNEL=numpy`), the NumPy path answers,
with the same results (tests/banks/test_index.py compares both with brute force).
"""

from __future__ import annotations

import ctypes
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from haven.banks.index import IndexView

#: Must equal KERNEL_ABI in _pdqkernel.c: a library built from another version is not used.
ABI = 1
LIBRARY = Path(__file__).with_name("_pdqkernel.so")

_OUT_OF_MEMORY = -(2**63)
_P = ctypes.c_void_p
_I64 = ctypes.c_int64
_I32 = ctypes.c_int32


class Kernel:
    def __init__(self, lib: ctypes.CDLL) -> None:
        fn = lib.haven_pdq_search
        fn.restype = _I64
        fn.argtypes = [_P, _I64, _P, _I64, _P, _I32, _P, _P, _P, _P, _I64, _P, _P, _P, _I64, _I32, _I64]
        fn.argtypes += [_P, _P, _P, _I64]
        self._fn = fn

    def search(
        self,
        v: IndexView,
        qs: npt.NDArray[np.uint64],
        radius: int,
        plan: tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]] | None,
        brute_limit: float,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(bounds, slots, distances) of every query, as `PDQIndex.search_batch` returns them.

        A batch of at least `SPLIT_MIN` queries is cut in `threads()` parts searched at once by
        the kernel in as many threads (it holds no lock and releases the GIL), then joined."""
        nq = qs.shape[0]
        parts = threads() if nq >= SPLIT_MIN else 1
        if parts > 1:
            cuts = np.linspace(0, nq, parts + 1).astype(np.int64)
            pieces = [qs[a:b] for a, b in itertools.pairwise(cuts.tolist())]
            futures = [_pool().submit(self._search, v, p, radius, plan, brute_limit) for p in pieces[1:]]
            got = [self._search(v, pieces[0], radius, plan, brute_limit)]  # this thread takes the first part
            got += [f.result() for f in futures]
            starts = np.cumsum([0] + [len(g[1]) for g in got[:-1]])
            bounds = np.concatenate([got[0][0][:1]] + [g[0][1:] + off for g, off in zip(got, starts, strict=True)])
            return bounds, np.concatenate([g[1] for g in got]), np.concatenate([g[2] for g in got])
        return self._search(v, qs, radius, plan, brute_limit)

    def _search(
        self,
        v: IndexView,
        qs: npt.NDArray[np.uint64],
        radius: int,
        plan: tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]] | None,
        brute_limit: float,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        qs = np.ascontiguousarray(qs)
        nq = qs.shape[0]
        m = len(v.layout)
        starts = np.array(v.starts, dtype=np.int32)
        widths = np.array(v.layout, dtype=np.int32)
        if plan is None:  # radius beyond the probe budget: every query scans every slot
            chunks, masks, limit = np.zeros(0, np.int32), np.zeros(0, np.int64), -1
        else:
            chunks, masks, limit = plan[0], plan[1], int(brute_limit)
        base = np.ascontiguousarray(v.base)
        delta = v.delta
        alive = v.alive.view(np.uint8)
        cap = max(64, 4 * nq)
        while True:
            bounds = np.zeros(nq + 1, dtype=np.int64)
            slots = np.empty(cap, dtype=np.int64)
            dists = np.empty(cap, dtype=np.int32)
            got = self._fn(
                base.ctypes.data,
                v.indexed,
                delta.ctypes.data,
                v.size - v.indexed,
                alive.ctypes.data,
                m,
                starts.ctypes.data,
                widths.ctypes.data,
                v.post_ptrs.ctypes.data,
                v.off_ptrs.ctypes.data,
                len(chunks),
                chunks.ctypes.data,
                masks.ctypes.data,
                qs.ctypes.data,
                nq,
                radius,
                limit,
                bounds.ctypes.data,
                slots.ctypes.data,
                dists.ctypes.data,
                cap,
            )
            if got >= 0:
                return bounds, slots[:got], dists[:got].astype(np.int64)
            if got == _OUT_OF_MEMORY:
                raise MemoryError("the PDQ kernel could not allocate its candidate buffers")
            cap = int(-got) + 16  # the output did not fit: it needs at most this many


#: Batches of at least this many queries are split across `threads()` threads.
SPLIT_MIN = 256
_lock = threading.Lock()
_loaded: list[Kernel | None] = []
_pools: list[ThreadPoolExecutor] = []


def threads() -> int:
    """Threads one batch search uses: `HAVEN_PDQ_THREADS` (default 1: a server's request threads
    and worker processes already keep the cores busy; 2 halves one large batch's latency when a
    core is free)."""
    try:
        return max(1, min(int(os.environ.get("HAVEN_PDQ_THREADS", "1")), os.cpu_count() or 1, 8))
    except ValueError:
        return 1


def _pool() -> ThreadPoolExecutor:
    if not _pools:
        with _lock:
            if not _pools:
                _pools.append(ThreadPoolExecutor(max_workers=7, thread_name_prefix="haven-pdq"))
    return _pools[0]


def load() -> Kernel | None:
    """The kernel, or None where it is not built or disabled (`HAVEN_PDQ_KERNEL=numpy`)."""
    if _loaded:
        return _loaded[0]
    with _lock:
        if not _loaded:
            _loaded.append(_open())
    return _loaded[0]


def _open() -> Kernel | None:
    if os.environ.get("HAVEN_PDQ_KERNEL", "").lower() == "numpy" or not LIBRARY.exists():
        return None
    try:
        lib = ctypes.CDLL(str(LIBRARY))
        if lib.haven_pdq_abi() != ABI:
            return None
        return Kernel(lib)
    except OSError:
        return None


def available() -> bool:
    return load() is not None
