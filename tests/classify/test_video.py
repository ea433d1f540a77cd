"""Video through intake: vPDQ stored, frame-level PDQ matches against image banks, classifier on
frames, long videos analysed by the worker (videos are made here with PyAV from sample photos)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from haven.banks.models import Match
from haven.core.db import Database
from haven.core.jobs import work
from haven.core.models import AuditRecord, Event, Job
from haven.core.settings import Settings
from haven.screening.models import ContentItem, QuarantineObject, VideoSignal
from haven.signals.video import analyse_video, probe_duration, vpdq_similarity
from haven.worker import load_handlers
from tests.classify.media import make_video
from tests.conftest import LiveServer
from tests.helpers import encode, sample


@pytest.fixture(scope="module")
def clip() -> bytes:
    return make_video(["astronaut", "coffee", "rocket"], seconds_each=2)


def test_vpdq_matches_a_reencoded_copy_and_not_another_video(clip: bytes) -> None:
    a = analyse_video(clip, sample=6)
    assert a.duration == pytest.approx(6.0, abs=0.3) and a.frame_count == 60
    assert len(a.frames) == 6 and a.frames[0].shape == (240, 320, 3)
    assert len(a.vpdq) == 6 and all(f.quality >= 50 for f in a.vpdq)
    smaller = analyse_video(make_video(["astronaut", "coffee", "rocket"], seconds_each=2, size=(160, 120)), sample=2)
    other = analyse_video(make_video(["chelsea", "moon"], seconds_each=3), sample=2)
    assert vpdq_similarity(a.vpdq, smaller.vpdq) == (100.0, 100.0)
    assert vpdq_similarity(a.vpdq, other.vpdq) == (0.0, 0.0)


def test_short_video_is_analysed_in_the_request_and_a_banked_frame_blocks(
    server: LiveServer, api_key: str, db: Database, clip: bytes
) -> None:
    with server.client(api_key) as c:
        c.post("/v1/banks", json={"name": "known", "kind": "known_csam", "default_classification": "A1"})
        pdq = c.post("/v1/content", files={"file": ("c.jpg", encode(sample("coffee")))}).json()["hashes"]["pdq"]
        c.post("/v1/banks/known/entries", json={"entries": [{"signal_type": "pdq", "value": pdq}]})
        time.sleep(0.5)  # the index refreshes every 0.2 s in tests
        r = c.post("/v1/content", files={"file": ("v.mp4", clip)})
        assert r.status_code == 200, r.text
        body = r.json()
        benign = c.post("/v1/content", files={"file": ("w.mp4", make_video(["chelsea"], 2))}).json()
    assert body["media_kind"] == "video"
    assert body["verdict"]["action"] == "block" and body["verdict"]["rule"] == "known_material.block"
    assert all(m["query_variant"].startswith("frame@") for m in body["matches"])
    assert benign["verdict"]["action"] == "allow" and benign["matches"] == []
    with db.session() as s:
        sig = s.get(VideoSignal, body["id"])
        assert sig is not None and sig.status == "done" and len(sig.vpdq) == 6
        item = s.get(ContentItem, body["id"])
        assert item is not None and set(item.scores) == {"opennsfw", "apparent_age"}
        assert item.scores["opennsfw"]["details"]["frame"] >= 0
        assert s.scalar(select(Match).where(Match.content_id == body["id"])) is not None


def test_long_video_goes_to_the_worker(settings: Settings, server: LiveServer, api_key: str, db: Database) -> None:
    settings.video_inline_max_seconds = 1.0
    clip = make_video(["horse", "camera"], seconds_each=2)
    assert probe_duration(clip) > 1.0
    with server.client(api_key) as c:
        body = c.post("/v1/content", files={"file": ("long.mp4", clip)}).json()
    assert body["verdict"]["action"] == "allow"  # exact hashes only so far
    with db.session() as s:
        sig = s.get(VideoSignal, body["id"])
        assert sig is not None and sig.status == "pending" and sig.vpdq == []
        item = s.get(ContentItem, body["id"])
        assert item is not None and item.quarantine_id  # bytes wait encrypted for the worker
        qid = item.quarantine_id
        assert s.scalar(select(Job).where(Job.kind == "classify.video")) is not None
    load_handlers()
    assert work(db, once=True) >= 1
    with db.session() as s:
        sig = s.get(VideoSignal, body["id"])
        assert sig is not None and sig.status == "done" and len(sig.vpdq) == 4
        item = s.get(ContentItem, body["id"])
        assert item is not None and item.verdict == "allow" and item.quarantine_id is None
        assert "opennsfw" in item.scores
        obj = s.get(QuarantineObject, qid)
        assert obj is not None and obj.deleted_at is not None and not Path(obj.path).exists()
        job = s.scalar(select(Job).where(Job.kind == "classify.video"))
        assert job is not None and job.status == "done"
        verdicts = list(s.scalars(select(Event).where(Event.type == "content.verdict", Event.subject_id == body["id"])))
        assert [e.data.get("analysis") for e in verdicts] == [None, "video"]
        # The worker's read is audited as a machine read: only a person's look is a view.
        reads = list(s.scalars(select(AuditRecord).where(AuditRecord.action.like("media.%"))))
        assert [(r.actor, r.action) for r in reads] == [("system:video-analysis", "media.read")]


def test_a_banked_frame_found_by_the_worker_blocks_and_is_in_the_match_log(
    settings: Settings, server: LiveServer, api_key: str, db: Database
) -> None:
    settings.video_inline_max_seconds = 1.0
    with server.client(api_key) as c:
        c.post("/v1/banks", json={"name": "known", "kind": "known_csam", "default_classification": "A1"})
        pdq = c.post("/v1/content", files={"file": ("c.jpg", encode(sample("coffee")))}).json()["hashes"]["pdq"]
        c.post("/v1/banks/known/entries", json={"entries": [{"signal_type": "pdq", "value": pdq}]})
        body = c.post(
            "/v1/content", files={"file": ("long.mp4", make_video(["horse", "coffee"], seconds_each=2))}
        ).json()
    assert body["verdict"]["action"] == "allow"  # only exact hashes so far: frames wait for the worker
    load_handlers()
    assert work(db, once=True) >= 1
    with db.session() as s:
        item = s.get(ContentItem, body["id"])
        assert item is not None and item.verdict == "block" and item.quarantine_id
        logged = list(s.scalars(select(Match).where(Match.content_id == body["id"])))
        assert logged and all(m.query_variant and m.query_variant.startswith("frame@") for m in logged)
