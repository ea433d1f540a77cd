"""Video analysis: vPDQ stored with the content, frame-level PDQ matching against image banks, the
imagery classifiers on sampled frames. Short videos are analysed in the request; long ones by the
worker (job `classify.video`), whose bytes wait encrypted in the quarantine store meanwhile and are
deleted once the analysis allows the video.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from haven.classify.models import VideoSignal
from haven.core.clock import now
from haven.core.db import Database
from haven.core.jobs import enqueue, handler
from haven.core.ledger import record_event
from haven.core.models import Job
from haven.core.settings import Settings, get_settings
from haven.intake import quarantine
from haven.intake.models import QuarantineObject
from haven.signals.video import VideoSignals, analyse_video

log = logging.getLogger("haven.classify.video")
WORKER_ACTOR = "system:video-analysis"
SEVERITY = {"allow": 0, "review": 1, "block": 2}


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
        from haven.intake.models import ContentItem

        obj = quarantine.put(session, settings, content_id=content_id, data=data, content_type="video")
        item = session.get(ContentItem, content_id)
        if item is not None:
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
    from haven.banks.runtime import MatcherRuntime

    rt = _matchers.get(db.url)
    if rt is None:
        rt = MatcherRuntime(db, settings)
        _matchers[db.url] = rt
    rt.refresh()
    return rt.matcher


def analyse_pending(db: Database, settings: Settings, content_id: str) -> str:
    """Analyse one queued video and settle its verdict; returns the final action."""
    from haven.intake.models import ContentItem
    from haven.intake.schemas import ContentMetadata
    from haven.intake.service import _views, log_matches, match_signals, scores_with_priority, video_frame_queries
    from haven.policy import PolicyInput, decide

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
    from haven.classify.base import Content
    from haven.classify.registry import registry_for

    video = analyse_video(data, sample=settings.video_sample_frames)
    scores = registry_for(settings).run(surface, Content.of_frames(video.frames))
    matcher = _matcher(db, settings)
    with db.session() as s:
        item = s.get(ContentItem, content_id)
        row = s.get(VideoSignal, content_id)
        if item is None or row is None:
            return "gone"
        exact = [("md5", item.md5 or ""), ("sha1", item.sha1 or ""), ("sha256", item.sha256 or "")]
        hits = match_signals(
            matcher,
            exact=exact,
            pdq_variants=video_frame_queries(video, settings.pdq_min_quality),
            pdq_quality=None,
            min_quality=settings.pdq_min_quality,
        )
        # Exact hashes were matched and logged at intake; the frames' matches are new.
        log_matches(
            s,
            [(h, st) for h, st in hits if h.entry.signal_type == "pdq"],
            integration_id=item.integration_id,
            source="content",
            content_id=content_id,
        )
        meta = ContentMetadata(uploader=item.uploader, surface=item.surface, recipients=item.recipients)
        full, priority = scores_with_priority(s, settings, scores, meta, has_matches=bool(hits))
        inp = PolicyInput(matches=tuple(_views(hits)), scores=full, surface=item.surface, media_kind="video")
        verdict = decide(s, inp).verdict
        row.status = "done"
        row.duration = video.duration
        row.frame_count = video.frame_count
        row.vpdq = _features(video)
        row.analysed_at = now()
        item.scores = full
        final = verdict if SEVERITY[verdict.action] > SEVERITY[item.verdict] else None
        if final is not None:
            item.verdict, item.verdict_rule, item.verdict_reason = final.action, final.rule, final.reason
        action = item.verdict
        if action == "allow" and item.quarantine_id:
            _delete_object(s, item.quarantine_id)
            item.quarantine_id = None
        record_event(
            s,
            "content.verdict",
            subject_type="content",
            subject_id=content_id,
            actor=WORKER_ACTOR,
            data={
                "action": action,
                "rule": item.verdict_rule,
                "labels": (final.labels if final else []) + priority.labels,
                "matched_entries": [h.entry.entry_id for h, st in hits if st == "active"],
                "priority": priority.level,
                "analysis": "video",
            },
        )
    return action


def _delete_object(session: Session, object_id: str) -> None:
    """Allowed content's bytes are not kept: remove the encrypted file and mark the row deleted."""
    obj = session.get(QuarantineObject, object_id)
    if obj is None:
        return
    Path(obj.path).unlink(missing_ok=True)
    obj.deleted_at = now()


@handler("classify.video")
def _run(db: Database, job: Job) -> None:
    settings = _settings.get(db.engine.url.render_as_string(hide_password=False)) or get_settings()
    analyse_pending(db, settings, job.payload["content_id"])
