"""HTTP routes of intake: `POST /v1/content` and `POST /v1/hashes/lookup`."""

from __future__ import annotations

import json
from collections import Counter
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from haven.core.auth import Principal, is_test_mode
from haven.core.errors import Invalid, PayloadTooLarge
from haven.core.metrics import MATCHES, VERDICTS
from haven.core.web import require_scope
from haven.intake import idempotency, service
from haven.intake.schemas import (
    ContentMetadata,
    ContentResult,
    LookupRequest,
    LookupResponse,
    MatchOut,
    VerdictOut,
)
from haven.screening import deferred
from haven.screening.pipeline import StatusHit
from haven.screening.settle import log_matches
from haven.screening.signals import compute_signals
from haven.signals.types import REGISTRY


def observe_result(source: str, verdict: VerdictOut, matches: list[MatchOut]) -> None:
    VERDICTS.labels(source, verdict.action, verdict.rule).inc()
    for m in matches:
        MATCHES.labels(m.signal_type, m.status).inc()


router = APIRouter(prefix="/v1", tags=["intake"])
Intake = Annotated[Principal, Depends(require_scope("intake"))]

_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "the file is larger than HAVEN_MAX_UPLOAD_BYTES"},
    415: {"description": "not an image or video Haven can hash"},
    422: {"description": "undecodable media, image over the pixel limit, or invalid metadata"},
}


async def _read_limited(upload: UploadFile, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = await upload.read(1024 * 1024)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(f"the file is larger than the limit of {limit} bytes", details={"max_bytes": limit})
        chunks.append(chunk)
    return b"".join(chunks)


def _metadata(raw: str | None) -> ContentMetadata:
    if not raw:
        return ContentMetadata()
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise Invalid(f"metadata is not valid JSON: {exc.msg}", code="invalid_metadata") from None
    except RecursionError:
        raise Invalid("metadata is nested too deeply", code="invalid_metadata") from None
    if not isinstance(obj, dict):
        raise Invalid("metadata must be a JSON object", code="invalid_metadata")
    try:
        return ContentMetadata.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Invalid(
            f"metadata.{where}: {first['msg']}",
            code="invalid_metadata",
            details={"errors": json.loads(exc.json(include_url=False))},
        ) from None


_IDEMPOTENCY_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "the Idempotency-Key was used for a different request in the last 24 h"},
}


@router.post("/content", response_model=ContentResult, responses={**_ERRORS, **_IDEMPOTENCY_ERRORS})
async def submit_content(
    request: Request,
    principal: Intake,
    file: Annotated[UploadFile, File(description="the media bytes")],
    metadata: Annotated[
        str | None,
        Form(description="JSON object: external_id, content_type, uploader, surface, recipients, created_at, ip"),
    ] = None,
) -> ContentResult | JSONResponse:
    """Hash an upload, match it against every enabled bank, and answer with a verdict.

    With an `Idempotency-Key` header, a retry of the same upload within 24 h gets the first
    answer (header `Idempotent-Replayed: true`) and creates nothing; another upload under the
    same key is 409."""
    settings = request.app.state.settings
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.max_upload_bytes + 64 * 1024:
        raise PayloadTooLarge(
            f"the request is larger than the limit of {settings.max_upload_bytes} bytes",
            details={"max_bytes": settings.max_upload_bytes},
        )
    meta = _metadata(metadata)
    data = await _read_limited(file, settings.max_upload_bytes)
    if not data:
        raise Invalid("the file is empty", code="empty_file")
    db = request.app.state.db
    attempt = idempotency.attempt(request, principal, "content", data, meta.model_dump_json().encode())
    if (stored := await run_in_threadpool(idempotency.replay, db, attempt)) is not None:
        return stored
    signals = await run_in_threadpool(
        compute_signals, data, settings, meta.surface, classify=True, defer=not settings.classify_inline
    )

    def store() -> tuple[ContentResult, list[StatusHit]]:
        with db.session() as s:
            result, hits = service.record_content(
                s,
                settings,
                request.app.state.matcher.matcher,
                integration_id=principal.integration_id,
                actor=principal.actor,
                data=data,
                signals=signals,
                meta=meta,
                test_mode=is_test_mode(principal),
            )
            idempotency.remember(s, attempt, result.model_dump(mode="json"))
            return result, hits

    try:
        result, hits = await run_in_threadpool(store)
    except IntegrityError:
        # A concurrent retry with the same key committed first: this one wrote nothing.
        if (stored := await run_in_threadpool(idempotency.replay, db, attempt)) is None:
            raise
        return stored
    matcher = request.app.state.matcher.matcher
    if signals.classify_deferred and not deferred.defer(db, settings, matcher, result.id, data, hits):
        # The backlog is full: classify now, as HAVEN_CLASSIFY_INLINE would.
        await run_in_threadpool(deferred.classify_settled, db, settings, matcher, result.id, data, hits)
    observe_result("content", result.verdict, result.matches)
    if any(m.status == "active" for m in result.matches):
        # Flood protection may just have quarantined an entry: apply it here at once (a cheap
        # counter read when nothing changed; other processes follow within seconds).
        await run_in_threadpool(request.app.state.matcher.refresh)
    return result


def check_hashes(body: LookupRequest) -> tuple[list[tuple[str, str, int | None]], list[dict[str, object]]]:
    """Normalise each query's value by its signal type (the schema admitted only lookupable
    types) and list the malformed ones: (type, value, quality) queries, problems by index."""
    queries: list[tuple[str, str, int | None]] = []
    problems: list[dict[str, object]] = []
    types = REGISTRY
    for i, h in enumerate(body.hashes):
        t = types[h.signal_type]
        v = t.normalise(h.value)
        if not t.is_valid(v):
            problems.append({"index": i, "problem": f"not a valid {h.signal_type} value"})
        queries.append((h.signal_type, v, h.quality))
    return queries, problems


@router.post("/hashes/lookup", response_model=LookupResponse, responses=_IDEMPOTENCY_ERRORS)
def lookup_hashes(body: LookupRequest, request: Request, principal: Intake) -> Response:
    """Match up to 1,000 hashes computed on the service's side (the media never leaves it).
    `Idempotency-Key` works as on `POST /v1/content`."""
    queries, problems = check_hashes(body)
    if problems:
        raise Invalid(
            f"hashes[{problems[0]['index']}]: {problems[0]['problem']}",
            code="invalid_hash",
            details={"problems": problems},
        )
    settings = request.app.state.settings
    db = request.app.state.db
    attempt = idempotency.attempt(request, principal, "hashes/lookup", body.model_dump_json().encode())
    if (stored := idempotency.replay(db, attempt)) is not None:
        return stored
    try:
        with db.reading() as r:  # reads only: no write lock while the answers are built
            results, hits = service.lookup_batch(
                r, settings, request.app.state.matcher.matcher, queries=queries, test_mode=is_test_mode(principal)
            )
        if hits or attempt is not None:
            with db.session() as s:  # the match log (flood protection counts it) and the stored answer
                log_matches(s, hits, integration_id=principal.integration_id, source="lookup")
                idempotency.remember(s, attempt, {"results": results})
    except IntegrityError:
        if (stored := idempotency.replay(db, attempt)) is None:
            raise
        return stored
    observe_lookup(results)
    # The results are already in the wire shape of LookupResponse: encoded once, by orjson.
    return Response(orjson.dumps({"results": results}), media_type="application/json")


def observe_lookup(results: list[dict[str, Any]]) -> None:
    """The verdict and match counters of a lookup batch, incremented once per distinct label."""
    verdicts = Counter((r["verdict"]["action"], r["verdict"]["rule"]) for r in results)
    for (action, rule), n in verdicts.items():
        VERDICTS.labels("lookup", action, rule).inc(n)
    matches = Counter((m["signal_type"], m["status"]) for r in results for m in r["matches"])
    for (signal_type, status), n in matches.items():
        MATCHES.labels(signal_type, status).inc(n)
