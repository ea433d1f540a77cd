"""OpenTelemetry traces: HTTP requests, screening, jobs, webhook deliveries, CyberTipline calls.

One trace follows an upload through the caller's stack and Haven's: the request's span continues
the caller's W3C `traceparent`; a job queued while it runs stores the traceparent of the current
span (`jobs.trace_context`), so the job's span, run later by a worker, is a child in the same
trace; a webhook delivery sends its own `traceparent` to the receiver.

What spans carry (the rule for every attribute): ids, routes, kinds, counts, statuses and
verdicts. Never content, message text, file names, hashes (user and account ids are the only
identifiers of people), secrets, keys or URLs with query values.

Exporting happens only when configured (`HAVEN_OTEL_EXPORTER`): `otlp` (the
`opentelemetry-exporter-otlp-proto-http` package and the standard `OTEL_EXPORTER_OTLP_*`
variables), or `console` (the SDK's exporter, to stdout). Otherwise the OpenTelemetry API is a
no-op: cheap, not free (~8 us of CPU a span, measured), so a loop over a batch's items opens one
span for the batch, not one per item. Prometheus metrics at /metrics are unchanged either way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("haven.core.tracing")
TRACER_NAME = "haven"
_configured = False


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def configure(exporter: str, service_name: str = "haven") -> bool:
    """Install a tracer provider exporting to `exporter` ("otlp", "console" or "" for none).
    Called once per process by the app and the worker; returns whether spans are exported."""
    global _configured
    if not exporter or _configured:
        return _configured
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

    span_exporter: SpanExporter
    if exporter == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as exc:
            raise RuntimeError(
                "HAVEN_OTEL_EXPORTER=otlp needs: pip install opentelemetry-exporter-otlp-proto-http"
            ) from exc
        span_exporter = OTLPSpanExporter()
    elif exporter == "console":
        span_exporter = ConsoleSpanExporter()
    else:
        raise RuntimeError(f"unknown HAVEN_OTEL_EXPORTER {exporter!r}: otlp, console or empty")
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(span_exporter))
    trace.set_tracer_provider(provider)
    _configured = True
    return True


@contextmanager
def span(name: str, *, kind: SpanKind = SpanKind.INTERNAL, **attributes: Any) -> Iterator[Span]:
    """A child span of the current one, with `haven.*` attributes (None values left out).
    An exception marks the span as an error (its type only, never its message) and propagates."""
    attrs = {k if "." in k else f"haven.{k}": v for k, v in attributes.items() if v is not None}
    with tracer().start_as_current_span(name, kind=kind, attributes=attrs, record_exception=False) as s:
        try:
            yield s
        except Exception as exc:
            s.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span, or None outside a sampled trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def inject_headers(headers: dict[str, str]) -> dict[str, str]:
    """Add `traceparent` (and `tracestate`) of the current span to outgoing request headers."""
    propagate.inject(headers)
    return headers


@contextmanager
def continued(traceparent: str | None) -> Iterator[None]:
    """Make the span that `traceparent` names the parent of spans started inside (a job)."""
    if not traceparent:
        yield
        return
    token = context.attach(propagate.extract({"traceparent": traceparent}))
    try:
        yield
    finally:
        context.detach(token)


def fastapi_telemetry_off() -> dict[str, Any]:
    """FastAPI's arguments that turn its own telemetry off (FastAPI >= 0.165 has some): its
    request spans record the raw path and query and its logs record exception messages, which
    can quote content; Haven's spans (TracingMiddleware) are the one way, with the rule above."""
    import inspect

    from fastapi import FastAPI

    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False, "auto_configure": False}}


class TracingMiddleware:
    """A SERVER span per HTTP request, continuing the caller's `traceparent`, named by the route
    template (never the raw path: it can hold ids of content). Plain ASGI like RequestMetrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        parent = propagate.extract(headers)
        method = scope.get("method", "")
        with tracer().start_as_current_span(
            f"{method} request", context=parent, kind=SpanKind.SERVER, record_exception=False
        ) as s:
            s.set_attribute("http.request.method", method)

            async def observed(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    s.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        s.set_status(Status(StatusCode.ERROR))
                await send(message)

            try:
                await self.app(scope, receive, observed)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if route:
                    s.update_name(f"{method} {route}")
                    s.set_attribute("http.route", route)
                principal = scope.get("state", {}).get("principal")
                if principal is not None:
                    s.set_attribute("haven.integration_id", principal.integration_id)
