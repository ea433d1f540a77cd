"""FastAPI glue shared by every capability's router: the database session, the caller's
principal with scope checks, and the error format."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from haven.core.auth import Principal, authenticate
from haven.core.db import Database
from haven.core.errors import HavenError, Unauthorized
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
        token = _bearer(request)
        db = get_db(request)
        with db.reading() as s:
            principal = authenticate(s, token)
        principal.require(scope)
        request.state.principal = principal
        return principal

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to the one JSON shape, and never leak a traceback to the caller."""

    @app.exception_handler(HavenError)
    async def _haven(_: Request, exc: HavenError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors: list[dict[str, Any]] = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type")}
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
