"""Loopback doubles for enforcement tests: the service's webhook receiver (verifies Haven's
Standard Webhooks signature with the `standardwebhooks` library, not Haven's code, and the
deprecated `Haven-Signature` too; honours idempotency keys, can be told to fail) and
run-in-a-thread helpers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from standardwebhooks import Webhook, WebhookVerificationError

from haven.enforce import verify
from tests.conftest import free_port

SECRET = "whsec_aGF2ZW4tdGVzdC13ZWJob29rLXNlY3JldC0zMmJ5dGU="  # whsec_ + base64 of 32 bytes


@dataclass
class Receiver:
    """What a well-behaved service does: verify, dedupe on Idempotency-Key, then act once."""

    secret: str = SECRET
    fail_next: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    executed: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    seen_keys: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hooks")
        async def hook(request: Request) -> JSONResponse:
            body = await request.body()
            header = request.headers.get("haven-signature", "")
            key = request.headers.get("idempotency-key", "")
            with self.lock:
                self.requests.append({"key": key, "action": request.headers.get("haven-action")})
                try:
                    Webhook(self.secret).verify(body, dict(request.headers))
                    standard = True
                except WebhookVerificationError:
                    standard = False
                if not standard or not verify(self.secret, header, body):
                    self.bad_signatures += 1
                    return JSONResponse({"error": "bad signature"}, status_code=400)
                if self.fail_next > 0:
                    self.fail_next -= 1
                    return JSONResponse({"error": "temporarily broken"}, status_code=500)
                if key in self.seen_keys:
                    return JSONResponse({"status": "duplicate ignored"}, status_code=200)
                self.seen_keys.add(key)
                import json

                self.executed.append(json.loads(body))
            return JSONResponse({"status": "done"}, status_code=200)

        return app

    def actions(self, type_: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.executed if type_ is None or e["type"] == type_]


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve an ASGI app on a loopback port in a thread; yields its base URL."""
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("double did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@contextmanager
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    with serve(r.app()) as url:
        r.url = f"{url}/hooks"
        yield r
