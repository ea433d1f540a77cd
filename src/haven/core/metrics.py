"""Prometheus metrics every operator scrapes at `/metrics`, and the request middleware that
feeds them and writes one structured log line per request (ids and timings, never content)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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

#: Functions run just before `/metrics` is rendered, each given the database, to set gauges that
#: are read from the database (tasks nobody may take, ...). Registered by the capability's module.
SCRAPE_HOOKS: list[Callable[[Any], None]] = []


def on_scrape(fn: Callable[[Any], None]) -> Callable[[Any], None]:
    if fn not in SCRAPE_HOOKS:
        SCRAPE_HOOKS.append(fn)
    return fn


def run_scrape_hooks(db: Any) -> None:
    """Refresh the database-backed gauges; a failing hook is logged, never fails the scrape."""
    for fn in SCRAPE_HOOKS:
        try:
            fn(db)
        except Exception:  # a gauge left stale is better than no metrics at all
            log.exception("metrics hook failed", extra={"hook": getattr(fn, "__name__", "?")})


class RequestMetrics:
    """Count and time every request by its route template (never by raw path: ids would
    explode the label set).

    Plain ASGI, not `BaseHTTPMiddleware`: a response's `send` reaches the server itself, so a
    route can tell that its bytes were handed over (the reveal writes its `media.view` then)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            elapsed = time.perf_counter() - start
            method = scope.get("method", "")
            route = getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            principal = scope.get("state", {}).get("principal")
            log.info(
                "request",
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "ms": round(elapsed * 1000, 2),
                    "integration": getattr(principal, "integration_id", None),
                },
            )
