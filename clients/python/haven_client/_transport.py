"""The hand-written part of the client: one request with retries, errors, idempotency keys.

Retries: 429 and 503 answers (and connection errors) are retried up to `max_retries` times,
waiting `Retry-After` when the server sends it, else exponential back-off with full jitter
(`backoff` * 2^attempt, at most `max_backoff` seconds). Every POST/PUT/PATCH/DELETE carries an
`Idempotency-Key` (yours, or one made per call and kept across its retries), so a retried upload
is answered once and never creates a second item.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import IO, Any
from urllib.parse import quote

import httpx

#: A file for a multipart field: bytes, an open binary file, or (filename, bytes or file, content type).
FileInput = bytes | IO[bytes] | tuple[str, bytes | IO[bytes], str]

RETRY_STATUSES = frozenset({429, 503})
USER_AGENT = "haven-client-python/0.1"


class HavenError(Exception):
    """An answer of 4xx/5xx: `status`, Haven's machine-readable `code`, the message and details."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


def _q(value: str) -> str:
    """A path parameter, percent-encoded (a `/` in an id must not change the route)."""
    return quote(str(value), safe="")


def _error(resp: httpx.Response) -> HavenError:
    try:
        err = resp.json().get("error", {})
    except ValueError:
        err = {}
    return HavenError(
        resp.status_code, err.get("code", "http_error"), err.get("message", resp.text[:200]), err.get("details")
    )


def _retry_after(resp: httpx.Response | None) -> float | None:
    value = resp.headers.get("retry-after") if resp is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class _Base:
    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 20.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"

    def _prepare(self, method: str, idempotency_key: str | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        headers: dict[str, str] = {}
        if method != "GET":
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        files = kwargs.pop("files", None)
        data = kwargs.pop("data", None)
        params = kwargs.pop("params", None)
        out: dict[str, Any] = {"headers": headers, **kwargs}
        if files is not None:
            out["files"] = {k: v for k, v in files.items() if v is not None}
        if data is not None:
            out["data"] = {k: v for k, v in data.items() if v is not None}
        if params is not None:
            out["params"] = {k: v for k, v in params.items() if v is not None}
        return out

    def _delay(self, attempt: int, resp: httpx.Response | None) -> float:
        after = _retry_after(resp)
        if after is not None:
            return min(after, self.max_backoff)
        return random.uniform(0, min(self.max_backoff, self.backoff * (2**attempt)))

    @staticmethod
    def _result(resp: httpx.Response, expect: str) -> Any:
        if resp.status_code >= 400:
            raise _error(resp)
        if expect == "none":
            return None
        if expect == "bytes":
            return resp.content
        return resp.json()


class SyncTransport(_Base):
    """`Client(base_url, api_key, timeout=30, max_retries=3, backoff=0.5, max_backoff=20)`;
    pass `transport=` (an httpx transport) to route requests elsewhere, e.g. in tests."""

    def __init__(
        self, base_url: str, api_key: str | None = None, *, transport: httpx.BaseTransport | None = None, **kw: Any
    ) -> None:
        super().__init__(base_url, api_key, **kw)
        self._http = httpx.Client(
            base_url=self.base_url, headers=self.headers, timeout=self.timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SyncTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, *, expect: str, idempotency_key: str | None = None, **kw: Any) -> Any:
        args = self._prepare(method, idempotency_key, kw)
        for attempt in range(self.max_retries + 1):
            resp: httpx.Response | None = None
            try:
                resp = self._http.request(method, path, **args)
            except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError):
                if attempt >= self.max_retries:
                    raise
            if resp is not None and (resp.status_code not in RETRY_STATUSES or attempt >= self.max_retries):
                return self._result(resp, expect)
            for f in (args.get("files") or {}).values():  # rewind open files before a retry
                if hasattr(f, "seek"):
                    f.seek(0)
            time.sleep(self._delay(attempt, resp))
        raise AssertionError("unreachable")


class AsyncTransport(_Base):
    """The asynchronous client: the same options, `await` every method, `async with` to close."""

    def __init__(
        self, base_url: str, api_key: str | None = None, *, transport: httpx.AsyncBaseTransport | None = None, **kw: Any
    ) -> None:
        super().__init__(base_url, api_key, **kw)
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=self.headers, timeout=self.timeout, transport=transport
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _request(
        self, method: str, path: str, *, expect: str, idempotency_key: str | None = None, **kw: Any
    ) -> Any:
        args = self._prepare(method, idempotency_key, kw)
        for attempt in range(self.max_retries + 1):
            resp: httpx.Response | None = None
            try:
                resp = await self._http.request(method, path, **args)
            except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError):
                if attempt >= self.max_retries:
                    raise
            if resp is not None and (resp.status_code not in RETRY_STATUSES or attempt >= self.max_retries):
                return self._result(resp, expect)
            for f in (args.get("files") or {}).values():
                if hasattr(f, "seek"):
                    f.seek(0)
            await asyncio.sleep(self._delay(attempt, resp))
        raise AssertionError("unreachable")
