"""FastAPI glue shared by every capability's router: the database session, the caller's
principal with scope checks, and the error format."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from haven.core.auth import Principal, authenticate, is_test_mode
from haven.core.db import Database
from haven.core.errors import HavenError, PayloadTooLarge, Unauthorized
from haven.core.settings import Settings

log = logging.getLogger("haven.web")


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """A session for the request; committed when the handler returns without error."""
    with get_db(request).session() as s:
        yield s


#: scope="function": the transaction commits before the response is sent, so a client that
#: acts on a response always finds what it was told exists (on PostgreSQL a commit after the
#: response let the client's next request race ahead of it).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


#: Declared so the OpenAPI document shows the bearer scheme; errors are raised by `_bearer`.
bearer_scheme = HTTPBearer(auto_error=False, description="an integration's API key: `hvn_<id>_<secret>`")


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "send 'Authorization: Bearer <API key>'; create a key with 'haven integration create'",
            code="missing_api_key",
        )
    return token.strip()


def require_scope(scope: str) -> Callable[..., Principal]:
    """A dependency that authenticates the caller and checks one scope (401, then 403)."""

    def dependency(
        request: Request, _credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme)
    ) -> Principal:
        cached = request.scope.get("state", {}).get("haven_principal")
        if isinstance(cached, Principal):  # authenticated by BodyGuard before the body was read
            principal = cached
        else:
            token = _bearer(request)
            db = get_db(request)
            with db.reading() as s:
                principal = authenticate(s, token)
        principal.require(scope)
        request.state.principal = principal
        return principal

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency


_IMPORT = re.compile(r"^/v1/banks/[^/]+/import$")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def body_limit(path: str, settings: Settings) -> int:
    """The largest request body a `/v1` route takes: the upload (its file plus room for the form
    fields), a bank import (a file of hashes), and every other route's JSON."""
    if path == "/v1/content":
        return settings.max_upload_bytes + 64 * 1024
    if _IMPORT.match(path):
        return settings.max_upload_bytes
    return settings.max_json_body_bytes


async def _send_error(send: Send, status: int, code: str, message: str, details: dict[str, Any]) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "details": details}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    # The body was not read: the connection cannot be reused for a next request.
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyGuard:
    """ASGI middleware in front of every `/v1` request with a body: the API key is checked
    before a byte of the body is read (401 without reading it), then the body is capped by
    route: refused from Content-Length, or counted while it streams (413, the error shape)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/v1/") or scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        app_state = scope["app"].state
        settings: Settings = app_state.settings
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            await _send_error(
                send,
                401,
                "missing_api_key",
                "send 'Authorization: Bearer <API key>'; create a key with 'haven integration create'",
                {},
            )
            return

        def check() -> Principal:
            with app_state.db.reading() as s:
                return authenticate(s, token.strip())

        try:
            principal = await run_in_threadpool(check)
        except HavenError as exc:
            await _send_error(send, exc.status_code, exc.code, exc.message, exc.details)
            return
        scope.setdefault("state", {})["haven_principal"] = principal
        limit = body_limit(path, settings)
        too_large = (
            "payload_too_large",
            f"the request body is larger than the limit of {limit} bytes for this route",
            {"max_bytes": limit},
        )
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            await _send_error(send, 413, *too_large)
            return
        seen = 0
        exceeded = False
        started = False

        async def counted() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise PayloadTooLarge(too_large[1], details=too_large[2])
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:  # whatever the app made of the interrupted body, the answer is 413
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _send_error(send, 413, *too_large)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except Exception:
            if not exceeded:
                raise
            if not started:
                await _send_error(send, 413, *too_large)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


_ADDRESS = re.compile(
    r"<([\w.]+) object at 0x[0-9a-fA-F]+>|<(?:class|function|built-in function) '?([\w.]+)'?(?: at 0x[0-9a-fA-F]+)?>"
)
_BARE_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def scrub(text: str) -> str:
    """A message without Python's reprs: `<x.Y object at 0x7f...>` and `<class 'str'>` become
    `Y`/`str` (an address helps an attacker defeat ASLR and tells a caller nothing)."""
    text = _ADDRESS.sub(lambda m: (m.group(1) or m.group(2) or "").rsplit(".", 1)[-1], text)
    return _BARE_ADDRESS.sub("", text)


def _scrub_all(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _scrub_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_all(v) for v in value]
    return value


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to the one JSON shape, and never leak a traceback to the caller."""

    app.add_middleware(BodyGuard)
    # Outside BodyGuard, so it sees the principal BodyGuard or require_scope found.
    app.add_middleware(TestModeAnswers)

    @app.exception_handler(HavenError)
    async def _haven(_: Request, exc: HavenError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        if exc.headers:
            headers = {**(headers or {}), **exc.headers}
        return JSONResponse(_scrub_all(exc.to_dict()), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors: list[dict[str, Any]] = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": scrub(str(e.get("msg", ""))), "type": e.get("type")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"][1:] or first["loc"])
        return JSONResponse(
            {
                "error": {
                    "code": "invalid_request",
                    "message": f"{where}: {first['msg']}" if where else str(first["msg"]),
                    "details": {"errors": errors},
                }
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
        return JSONResponse(
            {"error": {"code": codes.get(exc.status_code, "http_error"), "message": str(exc.detail), "details": {}}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # e.g. NUL characters, which PostgreSQL text cannot hold; nothing was written.
        log.info("rejected data", extra={"path": request.url.path, "error": type(exc.orig).__name__})
        return JSONResponse(
            {
                "error": {
                    "code": "invalid_data",
                    "message": "the request holds data the database cannot store "
                    "(for example a NUL character in a text field)",
                    "details": {},
                }
            },
            status_code=422,
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # A concurrent request created the same thing first (unique constraint); nothing was written.
        log.info("integrity conflict", extra={"path": request.url.path, "error": type(exc.orig).__name__})
        return JSONResponse(
            {
                "error": {
                    "code": "conflict",
                    "message": "the request conflicts with existing data (for example a name that is already taken)",
                    "details": {},
                }
            },
            status_code=409,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return JSONResponse(
            {
                "error": {
                    "code": "internal_error",
                    "message": "an unexpected error occurred; it has been logged",
                    "details": {},
                }
            },
            status_code=500,
        )


def _principal_of(scope: Scope) -> Principal | None:
    state = scope.get("state") or {}
    for name in ("principal", "haven_principal"):  # set by require_scope / BodyGuard
        found = state.get(name)
        if isinstance(found, Principal):
            return found
    return None


class TestModeAnswers:
    """ASGI middleware: every `/v1` answer to a test-mode key says so, as `"mode": "test"` in a
    JSON object body (the errors' too) and a `Haven-Mode: test` header (for any other body).
    Live keys' answers are left byte for byte as they are."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def marked_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                principal = _principal_of(scope)
                if principal is None or not is_test_mode(principal):
                    await send(message)
                    return
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"haven-mode"]
                headers.append((b"haven-mode", b"test"))
                message = {**message, "headers": headers}
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if not ctype.startswith(b"application/json"):
                    await send(message)
                    return
                start = message  # hold it: the body's length changes
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            try:
                doc = json.loads(body) if body else None
            except ValueError:
                doc = None
            if isinstance(doc, dict):
                doc["mode"] = "test"
                body = json.dumps(doc, separators=(",", ":")).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, marked_send)
