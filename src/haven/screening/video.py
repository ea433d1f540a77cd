"""Video analysis: vPDQ stored with the content, frame-level PDQ matching against image banks, the
imagery classifiers on sampled frames. Short videos are analysed in the request; long ones by the
worker (job `classify.video`), whose bytes wait encrypted in the quarantine store meanwhile and are
deleted once the analysis allows the video.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from haven.banks.runtime import MatcherRuntime
from haven.classify.base import Content
from haven.classify.registry import registry_for
from haven.core.clock import now
from haven.core.db import Database
from haven.core.jobs import enqueue, handler
from haven.core.models import Job
from haven.core.settings import Settings, get_settings
from haven.screening import quarantine
from haven.screening.models import ContentItem, VideoSignal
from haven.screening.pipeline import ScreeningInput, screen
from haven.screening.settle import settle
from haven.screening.signals import video_frame_queries
from haven.signals.video import VideoSignals, analyse_video

log = logging.getLogger("haven.screening.video")
WORKER_ACTOR = "system:video-analysis"


def _features(video: VideoSignals) -> list[list[Any]]:
    return [[f.frame, f.timestamp, f.quality, f.pdq] for f in video.vpdq]


def record_video(
    session: Session, settings: Settings, content_id: str, video: VideoSignals | None, *, data: bytes | None
) -> None:
    """Store the video's signals; for a long video, keep the bytes encrypted and queue the analysis."""
    row = VideoSignal(content_id=content_id, status="pending")
    if video is not None:
        row.status = "done"
        row.duration = video.duration
        row.frame_count = video.frame_count
        row.vpdq = _features(video)
        row.analysed_at = now()
    session.add(row)
    _settings[_url_of(session)] = settings
    if video is None and data is not None:
        item = session.get(ContentItem, content_id)
        if item is not None and item.quarantine_id is None:
            # Already quarantined when an exact match blocked it; otherwise kept for the worker.
            obj = quarantine.put(session, settings, content_id=content_id, data=data, content_type="video")
            item.quarantine_id = obj.id
        session.flush()
        enqueue(session, "classify.video", {"content_id": content_id}, dedupe_key=f"classify.video:{content_id}")


_matchers: dict[str, Any] = {}
#: Settings of the process that queued work for a database (tests and the embedded worker run with
#: settings not read from the environment); a separate worker process uses its environment's.
_settings: dict[str, Settings] = {}


def _url_of(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=False)


def _matcher(db: Database, settings: Settings) -> Any:
    """A match index for the worker process, refreshed incrementally before each use."""

    rt = _matchers.get(db.url)
    if rt is None:
        rt = MatcherRuntime(db, settings)
        _matchers[db.url] = rt
    rt.refresh()
    return rt.matcher


def analyse_pending(db: Database, settings: Settings, content_id: str) -> str:
    """Analyse one queued video and settle its verdict through the screening pipeline (the same
    verdict, events and removal request as a short video); returns the final action."""
    with db.session() as s:
        item = s.get(ContentItem, content_id)
        if item is None or item.quarantine_id is None:
            return "gone"
        data = quarantine.read(
            s,
            settings,
            item.quarantine_id,
            actor=WORKER_ACTOR,
            purpose="video analysis",
            action=quarantine.MACHINE_READ,
        )
        surface = item.surface

    video = analyse_video(data, sample=settings.video_sample_frames)
    scores = registry_for(settings).run(surface, Content.of_frames(video.frames))
    matcher = _matcher(db, settings)
    with db.session() as s:
        item = s.get(ContentItem, content_id)
        row = s.get(VideoSignal, content_id)
        if item is None or row is None:
            return "gone"
        inp = ScreeningInput(
            media_kind="video",
            exact=tuple((st, v) for st, v in (("md5", item.md5), ("sha1", item.sha1), ("sha256", item.sha256)) if v),
            perceptual=video_frame_queries(video, settings.pdq_min_quality),
            scores=scores,
            uploader=item.uploader,
            recipients=tuple(item.recipients or ()),
            surface=item.surface,
            analysis="video",
        )
        screening = screen(s, settings, matcher, inp)
        row.status = "done"
        row.duration = video.duration
        row.frame_count = video.frame_count
        row.vpdq = _features(video)
        row.analysed_at = now()
        settle(s, settings, item, screening, actor=WORKER_ACTOR)
        return item.verdict


@handler("classify.video")
def _run(db: Database, job: Job) -> None:
    settings = _settings.get(db.engine.url.render_as_string(hide_password=False)) or get_settings()
    analyse_pending(db, settings, job.payload["content_id"])
