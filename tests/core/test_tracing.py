"""OpenTelemetry: one upload's trace, collected in memory, shows the request (continuing the
caller's traceparent), the screening spans, the jobs that followed and the webhook delivery,
all in one trace; and no attribute carries a hash, the file, or a secret."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from haven.core import jobs
from haven.core.db import Database
from tests.clients.conftest import demo_picture  # noqa: F401 (fixture)
from tests.conftest import LiveServer, make_key
from tests.enforce.doubles import SECRET, receiver

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"
_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> InMemorySpanExporter:
    """The process's tracer provider with an in-memory exporter (set once: OpenTelemetry allows
    one global provider), emptied for each test."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def _wait_for(spans: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    """The server ends a request's span just after the client has the answer: wait for it."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [s for s in spans.get_finished_spans() if s.name == name]
        if found:
            return found
        time.sleep(0.01)
    return []


def test_one_upload_is_one_trace_from_the_callers_span_to_the_webhook(
    spans: InMemorySpanExporter,
    db: Database,
    demo_picture: Path,  # noqa: F811 (the imported fixture; banked before the server loads its index)
    server: LiveServer,
) -> None:
    admin, key = make_key(db, ["admin"]), make_key(db, ["intake"])
    picture = demo_picture.read_bytes()
    with receiver() as rec, server.client(admin) as a, server.client(key) as c:
        rec.secret = SECRET
        assert a.put("/v1/webhook", json={"url": rec.url, "secret": SECRET}).status_code == 200
        meta = {"external_id": "t-1", "uploader": "acct-trace", "surface": "upload"}
        r = c.post(
            "/v1/content",
            files={"file": ("x.jpg", picture)},
            data={"metadata": json.dumps(meta)},
            headers={"traceparent": TRACEPARENT},
        )
        assert r.status_code == 200 and r.json()["verdict"]["action"] == "block", r.text
        answer = r.json()
        for _ in range(10):
            if jobs.work(db, once=True) == 0:
                break
        assert rec.actions("content.remove"), rec.requests

    _wait_for(spans, "POST /v1/content")
    finished: list[ReadableSpan] = list(spans.get_finished_spans())
    ours = [s for s in finished if s.context.trace_id == int(CALLER_TRACE, 16)]
    names = [s.name for s in ours]
    request = next(s for s in ours if s.name == "POST /v1/content")
    assert request.kind == trace.SpanKind.SERVER and request.parent is not None
    assert request.parent.span_id == 0x00F067AA0BA902B7  # the caller's span is the parent
    assert request.attributes["http.response.status_code"] == 200
    by_id = {s.context.span_id: s for s in ours}

    def under(span: ReadableSpan, ancestor: ReadableSpan) -> bool:
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
            if span is ancestor:
                return True
        return False

    screen = next(s for s in ours if s.name == "screening.screen")
    assert under(screen, request)
    for child in ("screening.match", "screening.score", "screening.policy"):
        assert under(next(s for s in ours if s.name == child), screen), names
    assert next(s for s in ours if s.name == "screening.policy").attributes["haven.verdict"] == "block"
    # The jobs that followed the upload are in the same trace, below the request.
    job_spans = [s for s in ours if s.name.startswith("job ")]
    assert job_spans and all(under(s, request) for s in job_spans), names
    deliver = next(s for s in ours if s.name == "webhook.deliver")
    assert deliver.attributes["haven.action"] in ("content.remove", "account.restrict", "notice.deliver")
    assert any(s.name == "job enforce.deliver" for s in job_spans)
    # Nothing identifying content or secrets in any attribute of any span.
    dump = json.dumps([dict(s.attributes or {}) for s in finished], default=str)
    for secret_or_hash in (SECRET, *answer["hashes"].values(), "x.jpg", key, admin):
        if isinstance(secret_or_hash, str) and secret_or_hash:
            assert secret_or_hash not in dump


def test_a_request_without_traceparent_starts_its_own_trace(spans: InMemorySpanExporter, server: LiveServer) -> None:
    with server.client() as c:
        assert c.get("/healthz").status_code == 200
    (span,) = _wait_for(spans, "GET /healthz")
    assert span.parent is None and span.attributes["http.route"] == "/healthz"
