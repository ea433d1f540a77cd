"""Memory and start-up of `haven serve --workers N` on a bank, this checkout beside another.

Uses the var dir of bench/paths.py (a bank of `--bank-size` random PDQ hashes, imported and
snapshotted; made there on first use). For each checkout (`--against SRC` adds one), the server
is started with that code, timed to /readyz on every worker, sent `--lookups` 1,000-hash lookups
(so the pages a lookup touches are resident), then the resident (RSS) and proportional (PSS:
shared pages split between the processes sharing them) memory of its worker processes is read
from /proc/PID/smaps_rollup, and the snapshot's size for comparison. Ends with `RESULT {json}`.

    .venv/bin/python bench/serve_memory.py --bank-size 1000000 --workers 2 --against /work/main/src
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from paths import _env, setup  # noqa: E402

from intake import memory_mb  # noqa: E402


def serve(src: str, work: Path, workers: int, lookups: int) -> dict:
    env = dict(os.environ, **_env(work), PYTHONPATH=src)
    port = 19000 + secrets.randbelow(1000)
    haven = str(Path(sys.executable).with_name("haven"))
    started = time.perf_counter()
    server = subprocess.Popen(
        [haven, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    key = json.loads((work / "key.json").read_text())["key"]
    rng = np.random.default_rng(3)
    queries = [r.tobytes().hex() for r in rng.integers(0, 256, (500, 32), dtype=np.uint8)]
    other = np.random.default_rng(99)
    queries += [other.integers(0, 256, 32, dtype=np.uint8).tobytes().hex() for _ in range(500)]
    body = {"hashes": [{"signal_type": "pdq", "value": h} for h in queries]}
    try:
        ready = 0
        deadline = time.time() + 600
        while ready < 4 * workers:
            with contextlib.suppress(httpx.HTTPError):
                ready += httpx.get(f"{url}/readyz", timeout=2).status_code == 200
            if time.time() > deadline:
                raise SystemExit("server did not become ready")
            if not ready:
                time.sleep(0.1)
        ready_s = time.perf_counter() - started
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as c:
            for _ in range(lookups):
                r = c.post("/v1/hashes/lookup", json=body)
                assert r.status_code == 200, r.text
        time.sleep(1)
        memory = memory_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"ready_s": round(ready_s, 1), **memory}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=None, help="default: /tmp/haven-bench-paths-<bank size>")
    ap.add_argument("--bank-size", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--lookups", type=int, default=20)
    ap.add_argument("--against", default="", help="another checkout's src/")
    args = ap.parse_args()
    work = args.work or Path(f"/tmp/haven-bench-paths-{args.bank_size}")
    setup(work, args.bank_size)
    snap = work / "index" / "matcher.npz"
    out: dict[str, dict] = {}
    for name, src in {"branch": str(ROOT / "src"), **({"against": args.against} if args.against else {})}.items():
        out[name] = serve(src, work, args.workers, args.lookups)
        print(f"{name}: {out[name]}  load {os.getloadavg()[0]:.2f}", flush=True)
    result = {"workers": args.workers, "bank_size": args.bank_size, "snapshot_mb": round(snap.stat().st_size / 2**20)}
    print("RESULT " + json.dumps({"serve_memory": {**result, **out}, "loadavg": os.getloadavg()}))


if __name__ == "__main__":
    main()
