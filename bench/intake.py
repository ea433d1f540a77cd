"""Intake throughput and latency against `haven serve` on loopback, at concurrency 8.

Cases: `POST /v1/content` with a ~200 KB JPEG (hash, match, decide, store) and
`POST /v1/hashes/lookup` with batches of 1,000 hashes, against a bank of `--bank-size` PDQ
hashes. Prints figures and ends with one line `RESULT {json}`.

    .venv/bin/python bench/intake.py [--requests 400] [--bank-size 100000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
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
HAVEN = str(ROOT / ".venv" / "bin" / "haven")


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


async def drive(url: str, key: str, make_request, total: int, concurrency: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)

    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:

        async def worker() -> None:
            nonlocal errors
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t0 = time.perf_counter()
                r = await make_request(client, i)
                latencies.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200:
                    errors += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return {
        "requests": total,
        "errors": errors,
        "throughput_rps": round(total / wall, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(pct(latencies, 99), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--lookups", type=int, default=100, help="batch-of-1000 lookup requests")
    ap.add_argument("--bank-size", type=int, default=100_000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="haven-bench-"))
    env = dict(os.environ, HAVEN_VAR_DIR=str(work), HAVEN_LOG_LEVEL="WARNING", HAVEN_FLOOD_MAX_DISTINCT="1000000000")
    env["HAVEN_DATABASE_URL"] = args.database_url or f"sqlite:///{work / 'haven.db'}"
    subprocess.run([HAVEN, "db", "upgrade"], env=env, check=True, capture_output=True)
    rng = np.random.default_rng(3)
    bank_hashes = [rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex() for _ in range(args.bank_size)]
    image = jpeg_200k()
    csv_path = work / "bank.csv"
    csv_path.write_text("signal_type,value\n" + "\n".join(f"pdq,{h}" for h in bank_hashes) + "\n")
    subprocess.run([HAVEN, "bank", "create", "bench", "--kind", "known_csam"], env=env, check=True, capture_output=True)
    t0 = time.perf_counter()
    subprocess.run([HAVEN, "bank", "import", "bench", str(csv_path)], env=env, check=True, capture_output=True)
    import_s = time.perf_counter() - t0
    key = json.loads(
        subprocess.run(
            [HAVEN, "integration", "create", "bench", "--scopes", "intake", "--json"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )["key"]
    port = 18000 + secrets.randbelow(1000)
    server = subprocess.Popen(
        [HAVEN, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                raise SystemExit("server did not become ready")
            time.sleep(0.2)

        async def content(client: httpx.AsyncClient, i: int) -> httpx.Response:
            meta = json.dumps({"external_id": f"b{i}", "uploader": f"u{i % 50}", "surface": "upload"})
            return await client.post(
                "/v1/content", files={"file": ("p.jpg", image, "image/jpeg")}, data={"metadata": meta}
            )

        batch = {
            "hashes": [{"signal_type": "pdq", "value": h} for h in bank_hashes[:500]]
            + [
                {"signal_type": "pdq", "value": rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()}
                for _ in range(500)
            ]
        }

        async def lookup(client: httpx.AsyncClient, i: int) -> httpx.Response:
            return await client.post("/v1/hashes/lookup", json=batch)

        asyncio.run(drive(url, key, content, 16, args.concurrency))  # warm up
        content_stats = asyncio.run(drive(url, key, content, args.requests, args.concurrency))
        asyncio.run(drive(url, key, lookup, 8, args.concurrency))  # warm up
        lookup_stats = asyncio.run(drive(url, key, lookup, args.lookups, args.concurrency))
        lookup_stats["hashes_per_s"] = round(lookup_stats["throughput_rps"] * 1000, 1)
    finally:
        server.terminate()
        server.wait(timeout=20)

    backend = "postgresql" if args.database_url.startswith("postgres") else "sqlite"
    print(
        f"bank: {args.bank_size} PDQ hashes (import {import_s:.1f} s); image {len(image)} bytes; "
        f"concurrency {args.concurrency}; {backend}; {os.cpu_count()} cores"
    )
    print(f"POST /v1/content        {content_stats}")
    print(f"POST /v1/hashes/lookup  {lookup_stats}  (batches of 1000)")
    print(
        "RESULT "
        + json.dumps(
            {
                f"content-200KB-{backend}": {"haven": content_stats},
                f"lookup-1000-{backend}": {"haven": lookup_stats},
            }
        )
    )


if __name__ == "__main__":
    main()
