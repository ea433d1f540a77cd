"""The CyberTipline API client (httpx, HTTP Basic over HTTPS).

It only speaks HTTP: the persisted state machine (`haven.cybertip.machine`) decides what to call
and keeps every request and response. Transport failures say whether the request may have
reached the server, because `/submit` and `/upload` are not idempotent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from haven.core import outbound, tracing
from haven.cybertip.config import CybertipSettings
from haven.cybertip.xml import ApiResponse, parse_response

XML_TYPE = "text/xml; charset=utf-8"


class TransportError(Exception):
    """No usable response. `maybe_sent` is False only when the connection was never made."""

    def __init__(self, message: str, *, maybe_sent: bool) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


@dataclass
class Result:
    endpoint: str
    http_status: int
    body: bytes
    request_id: str | None
    response: ApiResponse | None
    duration_ms: int

    @property
    def code(self) -> int | None:
        """The API's response code; a 401 (empty body) counts as 2000, authentication required."""
        if self.response is not None:
            return self.response.code
        if self.http_status == 401:
            return 2000
        return None


class CybertipClient:
    def __init__(self, cfg: CybertipSettings, transport: httpx.BaseTransport | None = None) -> None:
        self.cfg = cfg
        self.environment = cfg.environment
        if transport is None and cfg.environment == "production":
            # Outside test mode every connection is checked and pinned (haven.core.outbound): a
            # mistyped or hostile HAVEN_CYBERTIP_URL must not reach an internal address. Test mode
            # talks to NCMEC's test server or a local double and is left as configured.
            transport = outbound.GuardedTransport()
        self._http = httpx.Client(
            base_url=cfg.base_url,
            auth=httpx.BasicAuth(cfg.username, cfg.password.get_secret_value()),
            timeout=httpx.Timeout(cfg.timeout_seconds),
            transport=transport,
            headers={"User-Agent": "haven-cybertip/0.1"},
            trust_env=cfg.environment != "production",
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CybertipClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, endpoint: str, method: str, **kwargs: object) -> Result:
        started = time.monotonic()
        # The span names the endpoint and environment only: never the report's XML or files.
        with tracing.span(
            f"cybertipline {endpoint}",
            kind=tracing.SpanKind.CLIENT,
            cybertip_endpoint=endpoint,
            cybertip_environment=self.environment,
        ) as sp:
            try:
                resp = self._http.request(method, f"/{endpoint}", **kwargs)  # type: ignore[arg-type]
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                raise TransportError(f"{endpoint}: could not connect: {exc}", maybe_sent=False) from exc
            except httpx.HTTPError as exc:
                raise TransportError(f"{endpoint}: {type(exc).__name__}: {exc}", maybe_sent=True) from exc
            sp.set_attribute("http.response.status_code", resp.status_code)
        parsed: ApiResponse | None = None
        if resp.content.strip():
            try:
                parsed = parse_response(resp.content)
            except Exception:
                parsed = None
        return Result(
            endpoint=endpoint,
            http_status=resp.status_code,
            body=resp.content,
            request_id=resp.headers.get("Request-ID"),
            response=parsed,
            duration_ms=int((time.monotonic() - started) * 1000),
        )

    def status(self) -> Result:
        return self._call("status", "GET")

    def xsd(self) -> Result:
        started = time.monotonic()
        try:
            resp = self._http.get("/xsd")
        except httpx.HTTPError as exc:
            raise TransportError(f"xsd: {exc}", maybe_sent=True) from exc
        return Result(
            "xsd",
            resp.status_code,
            resp.content,
            resp.headers.get("Request-ID"),
            None,
            int((time.monotonic() - started) * 1000),
        )

    def submit(self, xml: bytes) -> Result:
        return self._call("submit", "POST", content=xml, headers={"Content-Type": XML_TYPE})

    def upload(
        self, report_id: str, file_name: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> Result:
        # multipart: httpx writes the boundary; never set Content-Type by hand here.
        return self._call("upload", "POST", data={"id": report_id}, files={"file": (file_name, data, content_type)})

    def fileinfo(self, xml: bytes) -> Result:
        return self._call("fileinfo", "POST", content=xml, headers={"Content-Type": XML_TYPE})

    def finish(self, report_id: str) -> Result:
        return self._call("finish", "POST", data={"id": report_id})

    def retract(self, report_id: str) -> Result:
        return self._call("retract", "POST", data={"id": report_id})
