"""Image classifiers after the answer (the default): an upload is answered on its hashes and
matches, then a background thread of the same process runs the surface's classifiers on the
bytes it still holds in memory and settles the item again.

Why: classifier scores only ever propose a review (never a block), yet they were most of an
upload's time (decode to RGB, two ONNX models). The verdict can only rise (`settle`), and a
raised verdict opens its review task through the usual events; the bytes are quarantined then
(settle does it for held items), and never written for items that stay allowed.

The backlog is bounded (`MAX_BACKLOG` uploads' bytes per process): past it, an upload is
classified in its request as with `HAVEN_CLASSIFY_INLINE=true`, so nothing is skipped and memory
stays bounded. Work still queued when the process stops is lost: those uploads keep the
verdict they were answered with (their scores would only have proposed a review).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

from haven.banks.matcher import Matcher
from haven.core.db import Database
from haven.core.settings import Settings
from haven.screening.models import ContentItem
from haven.screening.pipeline import StatusHit, screen
from haven.screening.settle import settle
from haven.screening.signals import compute_signals

log = logging.getLogger("haven.screening.deferred")
WORKER_ACTOR = "system:classify"
MAX_BACKLOG = 64

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="haven-classify")
_lock = threading.Lock()
_pending: set[Future[str]] = set()


def defer(
    db: Database, settings: Settings, matcher: Matcher, content_id: str, data: bytes, hits: list[StatusHit]
) -> bool:
    """Queue the classification of a settled upload (`hits`: its screening's, so the rules see the
    matches the upload was answered with, not a bank changed since); False when the backlog is
    full (the caller then classifies in the request)."""
    with _lock:
        if len(_pending) >= MAX_BACKLOG:
            return False
        future = _executor.submit(_run, db, settings, matcher, content_id, data, hits)
        _pending.add(future)
    future.add_done_callback(_done)
    return True


def _done(future: Future[str]) -> None:
    with _lock:
        _pending.discard(future)


def _run(
    db: Database, settings: Settings, matcher: Matcher, content_id: str, data: bytes, hits: list[StatusHit]
) -> str:
    try:
        return classify_settled(db, settings, matcher, content_id, data, hits)
    except Exception:
        log.exception("deferred classification failed", extra={"content_id": content_id})
        raise


def classify_settled(
    db: Database, settings: Settings, matcher: Matcher, content_id: str, data: bytes, hits: list[StatusHit]
) -> str:
    """Classify one settled upload and settle its screening again on the same hits; returns the
    final action."""
    with db.session() as s:
        item = s.get(ContentItem, content_id)
        if item is None:
            return "gone"
        uploader, recipients, surface = item.uploader, tuple(item.recipients or ()), item.surface
    signals = compute_signals(data, settings, surface, classify=True)
    inp = replace(
        signals.screening_input(settings.pdq_min_quality, uploader=uploader, recipients=recipients, surface=surface),
        analysis="classify",
    )
    with db.session() as s:
        item = s.get(ContentItem, content_id)
        if item is None:
            return "gone"
        settle(
            s,
            settings,
            item,
            screen(s, settings, matcher, inp, hits=hits),
            actor=WORKER_ACTOR,
            data=data,
            content_type=signals.mime,
        )
        return item.verdict


def drain(timeout: float = 60.0) -> int:
    """Wait for the queued classifications (tests, shutdown); returns how many were waited for."""
    with _lock:
        waiting = list(_pending)
    for f in waiting:
        f.exception(timeout=timeout)
    return len(waiting)
