"""Prometheus metrics every operator scrapes at `/metrics`, and the request middleware that
feeds them and writes one structured log line per request (ids and timings, never content)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from prometheus_client import Counter, Histogram
from starlette.requests import Request
from starlette.responses import Response

log = logging.getLogger("haven.http")

REQUESTS = Counter("haven_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "haven_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
VERDICTS = Counter("haven_verdicts_total", "Verdicts given by intake", ["source", "action", "rule"])
MATCHES = Counter("haven_matches_total", "Bank matches found by intake", ["signal_type", "status"])


async def observe_requests(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Count and time every request by its route template (never by raw path: ids would
    explode the label set)."""
    start = time.perf_counter()
    status = 500
    try:
        response = await call_next(request)
        status = response.status_code
        return response
    finally:
        elapsed = time.perf_counter() - start
        route = getattr(request.scope.get("route"), "path", "unmatched")
        REQUESTS.labels(request.method, route, str(status)).inc()
        LATENCY.labels(request.method, route).observe(elapsed)
        principal = getattr(request.state, "principal", None)
        log.info(
            "request",
            extra={
                "method": request.method,
                "route": route,
                "status": status,
                "ms": round(elapsed * 1000, 2),
                "integration": principal.integration_id if principal else None,
            },
        )
