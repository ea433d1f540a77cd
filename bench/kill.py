"""Load and kill: no acknowledged record is lost and none is stored twice when the server dies.

Starts `haven serve` on loopback with a fresh SQLite database, sends uploads (`POST /v1/content`,
each a distinct small JPEG) and messages (`POST /v1/messages`) from a few client threads for
`--seconds`, kills the server with SIGKILL twice during the run (at one third and two thirds) and
restarts it each time. Every request carries a unique id (`external_id` / `message_id`); at the end
the database is read directly and compared with what the client saw acknowledged (HTTP 200):

- lost: acknowledged, but not in the database;
- duplicated: stored more than once (acknowledged or not);
- unknown: the connection died before an answer (may or may not be stored: not counted as lost).

Bounded: at most `--seconds` (capped at 120) of load and `--max-requests` (capped at 5,000)
requests. Prints figures and ends with one line `RESULT {json}`; exits 1 on any loss or duplicate.

    python bench/kill.py [--seconds 20] [--clients 4] [--max-requests 2000]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def haven_command() -> list[str]:
    """The `haven` of this interpreter's environment, running this checkout's code."""
    exe = Path(sys.executable).parent / "haven"
    return [str(exe)] if exe.exists() else [str(ROOT / ".venv" / "bin" / "haven")]


def small_jpeg(i: int) -> bytes:
    """A distinct 96x96 noise picture per request (distinct hashes, no bank to match)."""
    rgb = np.random.default_rng(i).integers(0, 255, (96, 96, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=80)
    return buf.getvalue()


class Server:
    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env, self.port = env, port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [*haven_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"haven serve exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return time.monotonic() - t0
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise SystemExit("the server did not become ready in 60 s")

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--max-requests", type=int, default=2000)
    args = ap.parse_args()
    seconds = min(max(args.seconds, 3.0), 120.0)
    max_requests = min(max(args.max_requests, 10), 5000)
    clients = min(max(args.clients, 1), 16)

    work = Path(tempfile.mkdtemp(prefix="haven-kill-"))
    db_path = work / "haven.db"
    env = dict(
        os.environ,
        HAVEN_VAR_DIR=str(work),
        HAVEN_DATABASE_URL=f"sqlite:///{db_path}",
        HAVEN_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT / "src"),
    )
    subprocess.run([*haven_command(), "db", "upgrade"], env=env, check=True, capture_output=True)
    created = subprocess.run(
        [*haven_command(), "integration", "create", "kill-bench", "--scopes", "intake", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    key = json.loads(created.stdout.strip().splitlines()[-1])["key"]
    server = Server(env, 19000 + secrets.randbelow(1000))
    restarts: list[float] = [server.start()]

    lock = threading.Lock()
    counter = iter(range(max_requests))
    acked: dict[str, str] = {}  # id -> kind
    unknown: set[str] = set()
    refused = 0  # no connection at all (server down): certainly not stored
    stop = threading.Event()

    def client(n: int) -> None:
        nonlocal refused
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
            while not stop.is_set():
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                rid = f"kill-{i}"
                try:
                    if i % 2 == 0:
                        meta = json.dumps({"external_id": rid, "uploader": f"u{n}", "surface": "upload"})
                        r = c.post(
                            "/v1/content",
                            files={"file": (f"{rid}.jpg", small_jpeg(i), "image/jpeg")},
                            data={"metadata": meta},
                        )
                        kind = "content"
                    else:
                        body = {"message_id": rid, "conversation_id": f"conv-{n}", "sender": f"u{n}"}
                        r = c.post("/v1/messages", json={**body, "recipients": [f"v{n}"], "text": f"hello {i}"})
                        kind = "message"
                except httpx.ConnectError:
                    with lock:
                        refused += 1
                    time.sleep(0.05)
                    continue
                except httpx.HTTPError:
                    with lock:
                        unknown.add(rid)
                    continue
                with lock:
                    if r.status_code == 200:
                        acked[rid] = kind
                    elif r.status_code >= 500:
                        unknown.add(rid)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    kills = 0
    try:
        for fraction in (1 / 3, 2 / 3):
            time.sleep(max(0.0, t0 + seconds * fraction - time.monotonic()))
            if all(not t.is_alive() for t in threads):
                break
            server.kill9()
            kills += 1
            restarts.append(server.start())
        time.sleep(max(0.0, t0 + seconds - time.monotonic()))
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
        wall = time.monotonic() - t0
        server.stop()

    with sqlite3.connect(db_path) as conn:
        stored: Counter[str] = Counter()
        for (rid,) in conn.execute("SELECT external_id FROM content_items WHERE external_id LIKE 'kill-%'"):
            stored[rid] += 1
        for (rid,) in conn.execute("SELECT external_id FROM conversation_messages WHERE external_id LIKE 'kill-%'"):
            stored[rid] += 1
    lost = sorted(r for r in acked if stored[r] == 0)
    duplicated = sorted(r for r, n in stored.items() if n > 1)
    unknown_stored = sum(1 for r in unknown if stored[r] > 0)
    result: dict[str, Any] = {
        "seconds": round(wall, 1),
        "kills": kills,
        "restart_seconds": [round(x, 2) for x in restarts[1:]],
        "acknowledged": len(acked),
        "acknowledged_content": sum(1 for k in acked.values() if k == "content"),
        "acknowledged_messages": sum(1 for k in acked.values() if k == "message"),
        "stored": sum(stored.values()),
        "unknown": len(unknown),
        "unknown_stored": unknown_stored,
        "refused_while_down": refused,
        "lost": len(lost),
        "duplicated": len(duplicated),
    }
    print(f"{len(acked)} acknowledged in {wall:.1f} s with {kills} kill -9;", end=" ")
    print(f"{len(lost)} lost, {len(duplicated)} duplicated")
    if lost or duplicated:
        print(f"lost: {lost[:20]}  duplicated: {duplicated[:20]}")
    print("RESULT " + json.dumps(result))
    if kills < 2 or lost or duplicated:
        sys.exit(1)


if __name__ == "__main__":
    main()
