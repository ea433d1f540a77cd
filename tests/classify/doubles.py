"""Local doubles of Thorn Safer, Google's Content Safety API and Hive, served on loopback.

They validate requests as the public documentation describes (auth header or key, method,
path, body shape, a real JPEG) and answer in the documented shapes. What is assumed where the
documentation is not public is listed in docs/classifiers.md.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.conftest import free_port

KEY = "double-secret-key"


def _is_jpeg(data: bytes) -> bool:
    return data[:3] == b"\xff\xd8\xff" and data[-2:] == b"\xff\xd9"


def build() -> FastAPI:
    app = FastAPI()
    app.state.calls = []
    app.state.fail = 0  # answer 503 to this many calls
    app.state.delay = 0.0
    app.state.score = 0.1

    async def _gate(request: Request) -> JSONResponse | None:
        app.state.calls.append(request.url.path)
        if app.state.delay:
            time.sleep(app.state.delay)
        if app.state.fail > 0:
            app.state.fail -= 1
            return JSONResponse({"error": "unavailable"}, status_code=503)
        return None

    @app.post("/v1/classify/image")
    async def safer(request: Request) -> Any:
        if (r := await _gate(request)) is not None:
            return r
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        form = await request.form()
        image = form.get("image")
        if image is None or isinstance(image, str) or not _is_jpeg(await image.read()):
            return JSONResponse({"error": "image must be a JPEG file"}, status_code=400)
        s = app.state.score
        return {
            "model_version": "safer-double-1",
            "classifications": [
                {"label": "csam", "score": s},
                {"label": "pornography", "score": s / 2},
                {"label": "other", "score": round(max(0.0, 1 - 1.5 * s), 4)},
            ],
        }

    @app.post("/v1beta1/images:classify")
    async def google(request: Request) -> Any:
        if (r := await _gate(request)) is not None:
            return r
        if request.query_params.get("key") != KEY:
            return JSONResponse({"error": {"code": 403, "status": "PERMISSION_DENIED"}}, status_code=403)
        body = await request.json()
        images = body.get("images") if isinstance(body, dict) else None
        if not isinstance(images, list) or not images:
            return JSONResponse({"error": {"code": 400, "status": "INVALID_ARGUMENT"}}, status_code=400)
        for img in images:
            if not _is_jpeg(base64.b64decode(img, validate=True)):
                return JSONResponse({"error": {"code": 400, "status": "INVALID_ARGUMENT"}}, status_code=400)
        level = ["VERY_LOW", "LOW", "MEDIUM", "HIGH", "VERY_HIGH"][min(4, int(app.state.score * 5))]
        return {"reviewPriorities": [level] * len(images), "modelVersion": "csapi-double"}

    @app.post("/api/v2/task/sync")
    async def hive(request: Request) -> Any:
        if (r := await _gate(request)) is not None:
            return r
        if request.headers.get("authorization") != f"Token {KEY}":
            return JSONResponse({"status_code": 401, "message": "Unauthorized"}, status_code=401)
        form = await request.form()
        media = form.get("media")
        if media is None or isinstance(media, str) or not _is_jpeg(await media.read()):
            return JSONResponse({"status_code": 400, "message": "media required"}, status_code=400)
        s = app.state.score
        classes = [{"class": "csam", "score": s}, {"class": "not_csam", "score": 1 - s}]
        return {
            "id": "task-1",
            "status": [
                {
                    "status": {"code": "0", "message": "SUCCESS"},
                    "response": {"output": [{"time": 0, "classes": classes}]},
                }
            ],
        }

    return app


@contextmanager
def serve() -> Iterator[tuple[str, FastAPI]]:
    app = build()
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("double did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        srv.should_exit = True
        t.join(timeout=5)
