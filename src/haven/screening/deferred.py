"""Image classifiers after the answer (the default): an upload is answered on its hashes and
matches, and the worker runs the surface's classifiers and settles again.

Why: classifier scores only ever propose a review (never a block), yet they were most of an
upload's time (decode to RGB, two ONNX models). The bytes wait encrypted in the quarantine store
until the job has run (deleted then if the item stays allowed), as for a long video; the verdict
can only rise (`settle`), and a raised verdict opens its review task through the usual events.
`HAVEN_CLASSIFY_INLINE=true` keeps them in the request for services that want the scores in
the answer.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy.orm import Session

from haven.core.db import Database
from haven.core.jobs import enqueue, handler
from haven.core.models import Job
from haven.core.settings import Settings, get_settings
from haven.screening import quarantine
from haven.screening.models import ContentItem
from haven.screening.pipeline import screen
from haven.screening.settle import settle
from haven.screening.signals import compute_signals
from haven.screening.video import _matcher, _settings, _url_of

log = logging.getLogger("haven.screening.deferred")
WORKER_ACTOR = "system:classify"
JOB = "classify.image"


def defer_classification(session: Session, settings: Settings, item: ContentItem, data: bytes) -> None:
    """Keep the upload's bytes for the worker (unless a match already quarantined them) and queue
    its classification, in the upload's transaction."""
    _settings[_url_of(session)] = settings
    if item.quarantine_id is None:
        obj = quarantine.put(session, settings, content_id=item.id, data=data, content_type=item.content_type)
        item.quarantine_id = obj.id
    session.flush()
    enqueue(session, JOB, {"content_id": item.id}, dedupe_key=f"{JOB}:{item.id}")


def classify_pending(db: Database, settings: Settings, content_id: str) -> str:
    """Classify one upload and settle its screening again; returns the final action."""
    with db.session() as s:
        item = s.get(ContentItem, content_id)
        if item is None or item.quarantine_id is None:
            return "gone"
        data = quarantine.read(
            s,
            settings,
            item.quarantine_id,
            actor=WORKER_ACTOR,
            purpose="classification",
            action=quarantine.MACHINE_READ,
        )
        uploader, recipients, surface = item.uploader, tuple(item.recipients or ()), item.surface
    signals = compute_signals(data, settings, surface, classify=True)
    inp = replace(
        signals.screening_input(settings.pdq_min_quality, uploader=uploader, recipients=recipients, surface=surface),
        analysis="classify",
    )
    matcher = _matcher(db, settings)
    with db.session() as s:
        item = s.get(ContentItem, content_id)
        if item is None:
            return "gone"
        settle(s, settings, item, screen(s, settings, matcher, inp), actor=WORKER_ACTOR)
        return item.verdict


@handler(JOB)
def _run(db: Database, job: Job) -> None:
    settings = _settings.get(db.engine.url.render_as_string(hide_password=False)) or get_settings()
    classify_pending(db, settings, job.payload["content_id"])
