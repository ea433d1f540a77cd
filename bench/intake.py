"""Intake throughput and latency against `haven serve --workers N` on loopback, side by side.

A bank of `--bank-size` random PDQ hashes is imported as one CSV and snapshotted; then, for each
`--workers` count, the server is started (time to /readyz and the workers' resident and
proportional memory are recorded) and `--clients` load-generator processes (each with
`--concurrency` requests in flight) send for `--seconds`:

- `POST /v1/hashes/lookup` with 1,000 hashes (500 banked, 500 random): hashes/s, p50/p99 per call;
- `POST /v1/content` with a ~200 KB JPEG (hash, match, decide, store; classifiers deferred, the
  default): uploads/s, p50/p99.

Beside them, in this process on the same inputs: threatexchange's `PdqSignal` hash of the JPEG
and its `PDQIndex` query of the 1,000 hashes (the ceiling a Python service gets from the
reference library), when threatexchange is installed (the `bench` extra). The machine is shared
when it is shared: compare figures of one run. Ends with one line `RESULT {json}`.

    .venv/bin/python bench/intake.py --bank-size 1000000 --workers 1 2 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import multiprocessing as mp
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
HAVEN = str(Path(sys.executable).with_name("haven"))  # the venv running this script


def jpeg_200k() -> bytes:
    """A benign generated 1024x768 picture, re-encoded until it is about 200 KB."""
    sys.path.insert(0, str(ROOT / "src"))
    from haven.signals.stand_ins import synthetic_picture

    img = synthetic_picture(7, (1024, 768))
    noise = np.random.default_rng(1).integers(-12, 12, (768, 1024, 3))
    img = Image.fromarray((np.asarray(img, dtype=np.int16) + noise).clip(0, 255).astype(np.uint8))
    for q in range(95, 30, -5):
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=q)
        if buf.tell() <= 220_000:
            return buf.getvalue()
    return buf.getvalue()


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def _client(url: str, key: str, kind: str, payload: bytes, seconds: float, concurrency: int, out: mp.Queue) -> None:
    """One load-generator process: `concurrency` requests in flight for `seconds`."""

    async def run() -> tuple[list[float], int]:
        latencies: list[float] = []
        errors = 0
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
            end = time.perf_counter() + seconds

            async def worker(w: int) -> None:
                nonlocal errors
                i = 0
                while time.perf_counter() < end:
                    t0 = time.perf_counter()
                    if kind == "lookup":
                        r = await client.post(
                            "/v1/hashes/lookup", content=payload, headers={"Content-Type": "application/json"}
                        )
                    else:
                        meta = json.dumps({"external_id": f"{os.getpid()}-{w}-{i}", "surface": "upload"})
                        r = await client.post(
                            "/v1/content", files={"file": ("p.jpg", payload, "image/jpeg")}, data={"metadata": meta}
                        )
                    latencies.append((time.perf_counter() - t0) * 1000)
                    errors += r.status_code != 200
                    i += 1

            await asyncio.gather(*(worker(w) for w in range(concurrency)))
        return latencies, errors

    out.put(asyncio.run(run()))


def load(url: str, key: str, kind: str, payload: bytes, seconds: float, clients: int, concurrency: int) -> dict:
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()
    procs = [
        ctx.Process(target=_client, args=(url, key, kind, payload, seconds, concurrency, q)) for _ in range(clients)
    ]
    for p in procs:
        p.start()
    results = [q.get() for _ in procs]
    for p in procs:
        p.join()
    lat = [x for r, _ in results for x in r]
    calls = len(lat)
    out = {
        "calls": calls,
        "errors": sum(e for _, e in results),
        "per_s": round(calls / seconds, 1),
        "p50_ms": round(statistics.median(lat), 1) if lat else None,
        "p99_ms": round(pct(lat, 99), 1) if lat else None,
    }
    if kind == "lookup":
        out["hashes_per_s"] = round(out["per_s"] * 1000)
    return out


def memory_mb(pid: int) -> dict[str, float]:
    """Resident and proportional (shared pages split between sharers) memory of the server's
    worker processes, summed (Linux /proc)."""
    kids = [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()] or [pid]
    rss = pss = 0.0
    for k in kids:
        for line in Path(f"/proc/{k}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1]) / 1024
            elif line.startswith("Pss:"):
                pss += int(line.split()[1]) / 1024
    return {"processes": len(kids), "rss_mb": round(rss), "pss_mb": round(pss)}


def reference(image: bytes, bank_hashes: list[str], queries: list[str]) -> dict | None:
    """threatexchange's PdqSignal hash and PDQIndex query in this process, on the same inputs."""
    try:
        from threatexchange.signal_type.pdq.pdq_index import PDQIndex
        from threatexchange.signal_type.pdq.signal import PdqSignal
    except ImportError:
        return None
    path = Path(tempfile.mkdtemp(prefix="haven-bench-ref-")) / "p.jpg"
    path.write_bytes(image)
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < 5:
        PdqSignal.hash_from_file(path)
        n += 1
    hash_per_s = n / (time.perf_counter() - t0)
    index = PDQIndex(entries=((h, i) for i, h in enumerate(bank_hashes)))
    t0 = time.perf_counter()
    rounds = 0
    while time.perf_counter() - t0 < 5 or rounds == 0:
        for q in queries:
            index.query(q)
        rounds += 1
    return {
        "pdqsignal_hashes_per_s": round(hash_per_s, 1),
        "pdqindex_query_per_s": round(rounds * len(queries) / (time.perf_counter() - t0)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bank-size", type=int, default=100_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=2, help="load-generator processes")
    ap.add_argument("--concurrency", type=int, default=4, help="requests in flight per client")
    ap.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    ap.add_argument("--no-reference", action="store_true", help="skip threatexchange's in-process figures")
    ap.add_argument(
        "--reuse",
        type=Path,
        default=None,
        help="a var dir made by bench/paths.py for the same --bank-size (SQLite): skips the import",
    )
    ap.add_argument("--kinds", nargs="+", default=["lookup", "content"], choices=["lookup", "content"])
    ap.add_argument("--pythonpath", default="", help="run the server with this checkout's src/ (default: this one)")
    ap.add_argument(
        "--no-classifiers",
        action="store_true",
        help="no image classifiers on any surface: uploads measure hash + match + verdict alone (by default"
        " the deferred classifiers run in the server's background thread and share its CPU)",
    )
    args = ap.parse_args()

    work = args.reuse or Path(tempfile.mkdtemp(prefix="haven-bench-"))
    env = dict(os.environ, HAVEN_VAR_DIR=str(work), HAVEN_LOG_LEVEL="WARNING", HAVEN_FLOOD_MAX_DISTINCT="1000000000")
    env["PYTHONPATH"] = args.pythonpath or str(ROOT / "src")
    if args.no_classifiers:
        env["HAVEN_CLASSIFIERS"] = '{"*": []}'
    env["HAVEN_DATABASE_URL"] = args.database_url or f"sqlite:///{work / 'haven.db'}"
    rng = np.random.default_rng(3)
    raw = rng.integers(0, 256, (args.bank_size, 32), dtype=np.uint8)
    bank_hashes = [r.tobytes().hex() for r in raw]
    image = jpeg_200k()
    import_s = snapshot_s = 0.0
    if args.reuse is not None:  # bench/paths.py made it: same generator, same bank
        key = json.loads((work / "key.json").read_text())["key"]
    else:
        subprocess.run([HAVEN, "db", "upgrade"], env=env, check=True, capture_output=True)
        csv_path = work / "bank.csv"
        with csv_path.open("w") as f:
            f.write("signal_type,value\n")
            f.writelines(f"pdq,{h}\n" for h in bank_hashes)
        subprocess.run(
            [HAVEN, "bank", "create", "bench", "--kind", "known_csam"], env=env, check=True, capture_output=True
        )
        t0 = time.perf_counter()
        subprocess.run([HAVEN, "bank", "import", "bench", str(csv_path)], env=env, check=True, capture_output=True)
        import_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run([HAVEN, "bank", "snapshot"], env=env, check=True, capture_output=True)
        snapshot_s = time.perf_counter() - t0
        key = json.loads(
            subprocess.run(
                [HAVEN, "integration", "create", "bench", "--scopes", "intake", "--json"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )["key"]
    queries = bank_hashes[:500] + [rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex() for _ in range(500)]
    lookup_body = json.dumps({"hashes": [{"signal_type": "pdq", "value": h} for h in queries]}).encode()
    backend = "postgresql" if args.database_url.startswith("postgres") else "sqlite"
    results: dict[str, dict] = {}
    for n in args.workers:
        port = 18000 + secrets.randbelow(1000)
        started = time.perf_counter()
        server = subprocess.Popen(
            [HAVEN, "serve", "--port", str(port), "--workers", str(n)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            ready = 0
            deadline = time.time() + 600
            while ready < 4 * n:  # every worker answers ready (connections spread over them)
                with contextlib.suppress(httpx.HTTPError):
                    ready += httpx.get(f"{url}/readyz", timeout=2).status_code == 200
                if time.time() > deadline:
                    raise SystemExit("server did not become ready")
                if not ready:
                    time.sleep(0.1)
            ready_s = time.perf_counter() - started
            load(url, key, "lookup", lookup_body, 2, 1, 2)  # warm-up
            lookup = content = None
            if "lookup" in args.kinds:
                lookup = load(url, key, "lookup", lookup_body, args.seconds, args.clients, args.concurrency)
            memory = memory_mb(server.pid)
            if "content" in args.kinds:
                content = load(url, key, "content", image, args.seconds, args.clients, args.concurrency)
        finally:
            server.terminate()
            server.wait(timeout=30)
        results[f"workers-{n}"] = {
            "ready_s": round(ready_s, 1),
            "memory": memory,
            "lookup": lookup,
            "content": content,
            "loadavg": os.getloadavg()[0],
        }
        print(f"--workers {n}: ready {ready_s:.1f} s, memory {memory}, load {os.getloadavg()[0]:.2f}")
        print(f"  POST /v1/hashes/lookup (1000)  {lookup}")
        print(f"  POST /v1/content (200 KB)      {content}")
    ref = None if args.no_reference else reference(image, bank_hashes, queries)
    if ref:
        print(f"threatexchange in-process (1 core): {ref}")
    print(
        f"bank: {args.bank_size} PDQ hashes (import {import_s:.1f} s, snapshot {snapshot_s:.1f} s); "
        f"image {len(image)} bytes; {args.clients} clients x {args.concurrency}; {backend}; {os.cpu_count()} cores"
    )
    print(
        "RESULT "
        + json.dumps(
            {
                f"intake-{backend}-{args.bank_size}": {
                    "haven": results,
                    "threatexchange": ref,
                    "import_s": round(import_s, 1),
                    "snapshot_s": round(snapshot_s, 1),
                }
            }
        )
    )


if __name__ == "__main__":
    main()
