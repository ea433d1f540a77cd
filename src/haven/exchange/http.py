"""HTTP for connectors: every request goes through the outbound guard (`haven.core.outbound`),
bodies are read with a byte cap (a 10 GB answer is refused at the cap, nothing is parsed), and
the providers' status codes become `ExchangeError` codes the exchange's state shows: 401/403
`auth_failed`, 429 `rate_limited` (with Retry-After), 5xx `upstream_unavailable`, others
`upstream_error`. Credentials travel only in headers and never reach an error message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from haven.core.outbound import BlockedAddress, failure_category, guarded_client
from haven.exchange.base import ExchangeError

#: Largest response body read from a provider (a NCMEC page of 1,000 entries is about 1 MB).
MAX_BODY_BYTES = 64 * 1024 * 1024
#: Largest error body read (a provider's error JSON/XML is a few hundred bytes).
MAX_ERROR_BYTES = 64 * 1024

#: A connector's reading of a provider's error answer (status, headers, first bytes of the body),
#: e.g. the Graph API's `{"error": {"code", "type"}}`; None falls back to the status code.
ErrorHook = Callable[[int, httpx.Headers, bytes], ExchangeError | None]


def _retry_after(resp: httpx.Response) -> float | None:
    raw = resp.headers.get("Retry-After")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    content: bytes | None = None,
    json: Any = None,
    auth: tuple[str, str] | None = None,
    timeout: float = 60.0,
    max_bytes: int = MAX_BODY_BYTES,
    on_error: ErrorHook | None = None,
) -> bytes:
    """The body of a successful response, or `ExchangeError`."""
    try:
        with (
            guarded_client(timeout=timeout) as client,
            client.stream(method, url, headers=headers, params=params, content=content, json=json, auth=auth) as resp,
        ):
            if resp.status_code >= 400:
                if on_error is not None:
                    head = bytearray()
                    for chunk in resp.iter_bytes():
                        head.extend(chunk)
                        if len(head) >= MAX_ERROR_BYTES:
                            break
                    mapped = on_error(resp.status_code, resp.headers, bytes(head[:MAX_ERROR_BYTES]))
                    if mapped is not None:
                        raise mapped
                code = (
                    "auth_failed"
                    if resp.status_code in (401, 403)
                    else "rate_limited"
                    if resp.status_code == 429
                    else "upstream_unavailable"
                    if resp.status_code >= 500
                    else "upstream_error"
                )
                raise ExchangeError(
                    f"the provider answered HTTP {resp.status_code}", code=code, retry_after=_retry_after(resp)
                )
            declared = resp.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise ExchangeError(
                    f"the response is {int(declared)} bytes, more than the {max_bytes} a page may be",
                    code="response_too_large",
                )
            body = bytearray()
            for chunk in resp.iter_bytes():
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise ExchangeError(
                        f"the response passed {max_bytes} bytes and was abandoned", code="response_too_large"
                    )
            return bytes(body)
    except BlockedAddress as exc:
        raise ExchangeError(str(exc), code="blocked_address") from None
    except httpx.HTTPError as exc:
        raise ExchangeError(f"could not reach the provider ({failure_category(exc)})", code="network") from None
