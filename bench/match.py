"""PDQ match index benchmark: Haven's index beside faiss IndexBinaryFlat and threatexchange's PDQIndex.

    .venv/bin/python bench/match.py --sizes 1000000 10000000

For each size and distribution (uniformly random hashes; hashes clustered near a few thousand
centres, as real lists are) the parent process generates the data and the queries from fixed
seeds and computes the true answers at radius 31 by NumPy brute force. Each contender then runs in
its own fresh process (so its memory can be measured alone), on one thread, regenerating the same
data, and reports:

- build_s: seconds to build the index from the hashes;
- bytes_per_hash: growth of the process's resident memory (VmRSS) over the build, with the
  caller's data already in memory, per hash: what the index really holds, its own copy of the
  hashes and any Python objects included (Haven also reports its arrays' own size);
- p50_ms / p99_ms: single-query latency over every query, one at a time;
- batch1000_qps: queries per second when the queries are given 1,000 at a time (faiss's
  `range_search` on the whole batch; PDQIndex's public API has no batch call, so its underlying
  faiss MultiHash `search_with_distance_in_result` on 1,000 hashes is used);
- exact: whether both the single and the batch answers (ids and distances) equal brute force.

Ends with one line `RESULT {json}`.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np

RADIUS = 31
CONTENDERS = ("haven", "faiss_flat", "pytx_pdqindex")
CENTRES = 3000


# -- data -----------------------------------------------------------------------------------------


def _seed(case: str, size: int) -> int:
    return (1 if case == "random" else 2) * 1_000_003 + size


def _flip_exact(rng: np.random.Generator, rows: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Copies of `rows` with exactly counts[i] distinct random bits flipped (for the few queries)."""
    out = rows.copy()
    for row, k in zip(out, counts, strict=True):
        for bit in rng.choice(256, size=int(k), replace=False):
            row[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    return out


def make_data(case: str, size: int, queries: int) -> tuple[np.ndarray, np.ndarray]:
    """(size, 4) uint64 stored hashes and (queries, 4) query hashes, the same in every process.

    random: uniform hashes; queries are half stored hashes with 0..40 bits flipped (real hits and
    near misses) and half uniform. clustered: each hash is one of 3,000 centres with each bit
    flipped with probability 1/4, 1/8, 1/16 or 1/32 (about 64, 32, 16 or 8 bits: families of
    near-duplicates whose chunks collide heavily, the hard case for multi-index hashing);
    queries are half stored hashes with 0..40 bits flipped, a quarter centres with 0..40 bits
    flipped, a quarter uniform.
    """
    rng = np.random.default_rng(_seed(case, size))
    if case == "random":
        words = rng.integers(0, 2**64, size=(size, 4), dtype=np.uint64)
        centres = None
    else:
        centres = rng.integers(0, 2**64, size=(min(CENTRES, max(1, size // 10)), 4), dtype=np.uint64)
        words = np.empty((size, 4), dtype=np.uint64)
        block = 1 << 20
        for lo in range(0, size, block):
            hi = min(size, lo + block)
            owner = rng.integers(0, len(centres), hi - lo)
            level = rng.integers(2, 6, hi - lo)  # mask = AND of `level` random words: P(bit) = 2^-level
            mask = rng.integers(0, 2**64, size=(hi - lo, 4), dtype=np.uint64)
            for j in range(1, 5):
                more = rng.integers(0, 2**64, size=(hi - lo, 4), dtype=np.uint64)
                use = (level > j)[:, None]
                mask &= np.where(use, more, np.uint64(2**64 - 1))
            words[lo:hi] = centres[owner] ^ mask
    half = queries // 2
    near = _flip_exact(rng, words[rng.integers(0, size, half)], rng.integers(0, 41, half))
    rest = queries - half
    if centres is None:
        other = rng.integers(0, 2**64, size=(rest, 4), dtype=np.uint64)
    else:
        quarter = rest // 2
        other = np.concatenate(
            [
                _flip_exact(rng, centres[rng.integers(0, len(centres), quarter)], rng.integers(0, 41, quarter)),
                rng.integers(0, 2**64, size=(rest - quarter, 4), dtype=np.uint64),
            ]
        )
    return words, np.concatenate([near, other])


def brute_force(words: np.ndarray, queries: np.ndarray) -> list[tuple[list[int], list[int]]]:
    """The true answers: ids (ascending) and distances within RADIUS, column by column in NumPy."""
    cols = [np.ascontiguousarray(words[:, k]) for k in range(4)]
    out = []
    for q in queries:
        dist = np.bitwise_count(cols[0] ^ q[0]).astype(np.uint16)
        for k in (1, 2, 3):
            dist += np.bitwise_count(cols[k] ^ q[k])
        hit = np.flatnonzero(dist <= RADIUS)
        out.append((hit.tolist(), dist[hit].astype(int).tolist()))
    return out


def to_bytes(words: np.ndarray) -> np.ndarray:
    """(n, 32) uint8 in the hex string's byte order (what faiss and PDQ strings use)."""
    return np.ascontiguousarray(words.astype(">u8")).view(np.uint8).reshape(-1, 32)


def to_hex(words: np.ndarray) -> list[str]:
    raw = to_bytes(words).tobytes().hex()
    return [raw[i : i + 64] for i in range(0, len(raw), 64)]


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


# -- contenders (each in its own process) ----------------------------------------------------------

Answer = tuple[list[int], list[int]]


class Contender:
    def build(self, words: np.ndarray) -> None:
        raise NotImplementedError

    def query(self, q: np.ndarray, qhex: str) -> Answer:
        raise NotImplementedError

    def batch(self, qs: np.ndarray, qhex: list[str]) -> list[Answer]:
        raise NotImplementedError

    def array_bytes(self) -> int | None:
        return None


class Haven(Contender):
    def build(self, words: np.ndarray) -> None:
        from haven.banks.index import PDQIndex

        bits = os.environ.get("BENCH_HAVEN_CHUNK_BITS")
        self.index = PDQIndex(capacity=len(words), chunk_bits=int(bits) if bits else None)
        self.index.add(words)

    def query(self, q: np.ndarray, qhex: str) -> Answer:
        slots, dists = self.index.search(q, RADIUS)
        return slots.tolist(), dists.tolist()

    def batch(self, qs: np.ndarray, qhex: list[str]) -> list[Answer]:
        return [(s.tolist(), d.tolist()) for s, d in self.index.search_many(qs, RADIUS)]

    def array_bytes(self) -> int | None:
        return self.index.nbytes


class FaissFlat(Contender):
    def build(self, words: np.ndarray) -> None:
        import faiss

        faiss.omp_set_num_threads(1)
        self.index = faiss.IndexBinaryFlat(256)
        self.index.add(to_bytes(words))

    def _answers(self, lims: np.ndarray, dists: np.ndarray, ids: np.ndarray) -> list[Answer]:
        out = []
        for i in range(len(lims) - 1):
            order = np.argsort(ids[lims[i] : lims[i + 1]])
            out.append(
                (ids[lims[i] : lims[i + 1]][order].tolist(), dists[lims[i] : lims[i + 1]][order].astype(int).tolist())
            )
        return out

    def query(self, q: np.ndarray, qhex: str) -> Answer:
        lims, dists, ids = self.index.range_search(to_bytes(q[None, :]), RADIUS + 1)  # faiss: distance < radius
        return self._answers(lims, dists, ids)[0]

    def batch(self, qs: np.ndarray, qhex: list[str]) -> list[Answer]:
        return self._answers(*self.index.range_search(to_bytes(qs), RADIUS + 1))


class PytxPDQIndex(Contender):
    """threatexchange's PDQIndex, the index HMA uses (faiss IndexBinaryMultiHash, 16 maps of 16 bits)."""

    def build(self, words: np.ndarray) -> None:
        import faiss
        from threatexchange.signal_type.pdq.pdq_index import PDQIndex

        faiss.omp_set_num_threads(1)
        hexes = to_hex(words)
        self.index = PDQIndex(entries=((h, i) for i, h in enumerate(hexes)))
        del hexes

    def query(self, q: np.ndarray, qhex: str) -> Answer:
        found = sorted((m.metadata, m.similarity_info.distance) for m in self.index.query(qhex))
        return [i for i, _ in found], [d for _, d in found]

    def batch(self, qs: np.ndarray, qhex: list[str]) -> list[Answer]:
        result = self.index.index.search_with_distance_in_result(qhex, RADIUS)
        out = []
        for h in qhex:
            found = sorted((int(i), int(d)) for i, _, d in result[h])
            out.append(([i for i, _ in found], [d for _, d in found]))
        return out


def run_worker(contender: str, case: str, size: int, queries: int, truth_path: Path) -> dict[str, Any]:
    impl: Contender = {"haven": Haven, "faiss_flat": FaissFlat, "pytx_pdqindex": PytxPDQIndex}[contender]()
    with np.load(truth_path, allow_pickle=False) as t:
        ids, dists, lims = t["ids"], t["dists"], t["lims"]
    truth = [(ids[lims[i] : lims[i + 1]].tolist(), dists[lims[i] : lims[i + 1]].tolist()) for i in range(len(lims) - 1)]
    # Import everything the contender needs before the baseline, so modules are not counted as index.
    import faiss  # noqa: F401
    import threatexchange.signal_type.pdq.pdq_index  # noqa: F401

    import haven.banks.index  # noqa: F401

    words, qs = make_data(case, size, queries)
    qhex = to_hex(qs)
    gc.collect()
    rss0 = rss_bytes()  # the caller's data is already in memory: what grows from here is the index
    started = time.perf_counter()
    impl.build(words)
    build_s = time.perf_counter() - started
    gc.collect()
    rss1 = rss_bytes()
    del words
    for i in range(min(20, len(qs))):  # warm-up
        impl.query(qs[i], qhex[i])
    times = []
    exact = True
    for q, h, want in zip(qs, qhex, truth, strict=True):
        t0 = time.perf_counter()
        got = impl.query(q, h)
        times.append(time.perf_counter() - t0)
        exact &= got == want
    batch_times = []
    for lo in range(0, len(qs), 1000):
        t0 = time.perf_counter()
        got_many = impl.batch(qs[lo : lo + 1000], qhex[lo : lo + 1000])
        batch_times.append((time.perf_counter() - t0, len(got_many)))
        exact &= got_many == truth[lo : lo + 1000]
    ms = np.array(times) * 1e3
    out: dict[str, Any] = {
        "p50_ms": round(float(np.percentile(ms, 50)), 4),
        "p99_ms": round(float(np.percentile(ms, 99)), 4),
        "bytes_per_hash": round((rss1 - rss0) / size, 1),
        "build_s": round(build_s, 3),
        "batch1000_qps": round(sum(n for _, n in batch_times) / sum(t for t, _ in batch_times), 1),
        "exact": bool(exact),
        "hits": int(sum(len(a) for a, _ in truth)),
    }
    if impl.array_bytes() is not None:
        out["array_bytes_per_hash"] = round(impl.array_bytes() / size, 1)  # type: ignore[operator]
    return out


# -- parent -----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--cases", nargs="+", default=["random", "clustered"], choices=["random", "clustered"])
    parser.add_argument("--contenders", nargs="+", default=list(CONTENDERS), choices=CONTENDERS)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument(
        "--pytx-max",
        type=int,
        default=None,
        help="skip threatexchange's PDQIndex above this size (it is slow and large)",
    )
    parser.add_argument(
        "--haven-chunk-bits", type=int, default=None, help="force Haven's chunk width (default: chosen by size)"
    )
    parser.add_argument("--worker", nargs=4, metavar=("CONTENDER", "CASE", "SIZE", "TRUTH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.haven_chunk_bits:
        os.environ["BENCH_HAVEN_CHUNK_BITS"] = str(args.haven_chunk_bits)  # inherited by the workers
    if args.worker:
        contender, case, size, truth = args.worker
        print(json.dumps(run_worker(contender, case, int(size), args.queries, Path(truth))))
        return

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            for case in args.cases:
                name = f"{case}-{size}"
                t0 = time.perf_counter()
                words, qs = make_data(case, size, args.queries)
                truth = brute_force(words, qs)
                del words
                truth_path = Path(tmp) / f"{name}.npz"
                lims = np.cumsum([0] + [len(a) for a, _ in truth])
                np.savez(
                    truth_path,
                    ids=np.array([i for a, _ in truth for i in a], dtype=np.int64),
                    dists=np.array([d for _, b in truth for d in b], dtype=np.int64),
                    lims=lims,
                )
                hits = int(lims[-1])
                print(
                    f"\n{name}: {args.queries} queries, {hits} true hits at radius {RADIUS} "
                    f"(data + brute force {time.perf_counter() - t0:.1f} s)",
                    flush=True,
                )
                print(
                    f"  {'contender':<15}{'build s':>9}{'B/hash':>9}{'p50 ms':>9}{'p99 ms':>9}{'batch q/s':>11}  exact"
                )
                results[name] = {}
                for contender in args.contenders:
                    if contender == "pytx_pdqindex" and args.pytx_max is not None and size > args.pytx_max:
                        print(f"  {contender:<15}skipped above --pytx-max {args.pytx_max}", flush=True)
                        continue
                    cmd = [
                        sys.executable,
                        __file__,
                        "--queries",
                        str(args.queries),
                        "--worker",
                        contender,
                        case,
                        str(size),
                        str(truth_path),
                    ]
                    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
                    if proc.returncode != 0:
                        print(f"  {contender:<15}failed: {proc.stderr.strip().splitlines()[-1:]}", flush=True)
                        continue
                    r = json.loads(proc.stdout.strip().splitlines()[-1])
                    results[name][contender] = r
                    print(
                        f"  {contender:<15}{r['build_s']:>9.2f}{r['bytes_per_hash']:>9.1f}{r['p50_ms']:>9.3f}"
                        f"{r['p99_ms']:>9.3f}{r['batch1000_qps']:>11.0f}  {r['exact']}",
                        flush=True,
                    )
                ours = results[name].get("haven")
                if ours:
                    for other in ("faiss_flat", "pytx_pdqindex"):
                        theirs = results[name].get(other)
                        if theirs:
                            speed = theirs["p50_ms"] / ours["p50_ms"]
                            room = ours["bytes_per_hash"] / max(theirs["bytes_per_hash"], 0.1)
                            batch = ours["batch1000_qps"] / theirs["batch1000_qps"]
                            print(
                                f"  haven vs {other}: p50 {speed:.1f}x faster, {room:.2f}x the bytes per hash, "
                                f"batch {batch:.1f}x"
                            )
    medians = {k: statistics.median([v["p50_ms"] for v in c.values()]) for k, c in results.items() if c}
    print("\nbytes_per_hash = VmRSS growth per hash (index + Python objects); array_bytes_per_hash = Haven's arrays")
    print(f"median p50 over contenders per case: {medians}")
    print("RESULT " + json.dumps(results))


if __name__ == "__main__":
    main()
