"""One pipeline for every door: a long video whose frames match known material, found by the
worker after the answer, gets the same verdict, the same events and the same removal webhook as
a short video analysed in the request (before the screening core, the worker's path blocked
without ever asking enforcement to remove it)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import select

from haven.core.db import Database
from haven.core.models import Event
from haven.core.settings import Settings
from haven.screening.models import ContentItem
from haven.worker import load_handlers
from tests.classify.media import make_video
from tests.conftest import LiveServer, make_key
from tests.enforce.doubles import receiver
from tests.enforce.test_webhook_flow import configure, drain
from tests.helpers import encode, sample

#: Fields every `content.verdict` carries, whichever door wrote it.
VERDICT_FIELDS = {
    "action",
    "rule",
    "labels",
    "matched_entries",
    "uploader",
    "priority",
    "pending_analysis",
    "analysis",
    "previous_action",
    "ruleset_version",
    "category",
    "actions",
    "shadow",
    "surface",
}


def _events(db: Database, content_id: str) -> list[Event]:
    with db.session() as s:
        rows = s.scalars(
            select(Event)
            .where(Event.subject_type == "content", Event.subject_id == content_id, Event.type.like("content.%"))
            .order_by(Event.id)
        ).all()
        s.expunge_all()
        return list(rows)


def _upload(c: httpx.Client, name: str, data: bytes, uploader: str) -> dict[str, Any]:
    meta = {"uploader": uploader, "external_id": name, "surface": "upload"}
    r = c.post("/v1/content", files={"file": (name, data)}, data={"metadata": json.dumps(meta)})
    assert r.status_code == 200, r.text
    return r.json()


def test_long_video_caught_by_its_frames_is_enforced_like_a_short_one(
    settings: Settings, server: LiveServer, api_key: str, db: Database
) -> None:
    load_handlers()
    admin = make_key(db, ["admin"])
    short_clip = make_video(["horse", "coffee"], seconds_each=1)
    long_clip = make_video(["rocket", "coffee"], seconds_each=2)
    with receiver() as rec, server.client(admin) as a, server.client(api_key) as c:
        configure(a, rec)
        assert c.post(
            "/v1/banks", json={"name": "known", "kind": "known_csam", "default_classification": "A1"}
        ).is_success
        pdq = c.post("/v1/content", files={"file": ("c.jpg", encode(sample("coffee")))}).json()["hashes"]["pdq"]
        assert c.post("/v1/banks/known/entries", json={"entries": [{"signal_type": "pdq", "value": pdq}]}).is_success
        settings.video_inline_max_seconds = 3.0
        short = _upload(c, "short.mp4", short_clip, "acct-short")
        assert short["verdict"]["action"] == "block"
        settings.video_inline_max_seconds = 1.0
        long = _upload(c, "long.mp4", long_clip, "acct-long")
        assert long["verdict"]["action"] == "allow"  # the frames wait for the worker
        drain(db)
        removed = {a["data"]["content_id"] for a in rec.actions("content.remove")}
    assert removed == {short["id"], long["id"]}

    with db.session() as s:
        for cid in (short["id"], long["id"]):
            item = s.get(ContentItem, cid)
            assert item is not None and item.verdict == "block" and item.verdict_rule == "known_material.block"
            assert item.quarantine_id  # kept encrypted for review and evidence

    short_events, long_events = _events(db, short["id"]), _events(db, long["id"])
    assert [e.type for e in short_events] == ["content.received", "content.verdict", "content.enforcement_requested"]
    assert [e.type for e in long_events] == [
        "content.received",
        "content.verdict",  # at intake: allow, pending analysis
        "content.verdict",  # the worker's: block
        "content.enforcement_requested",
    ]
    short_verdict, long_verdict = short_events[1].data, long_events[2].data
    assert set(short_verdict) == set(long_verdict) == VERDICT_FIELDS
    for key in ("action", "rule", "category", "actions", "ruleset_version"):
        assert short_verdict[key] == long_verdict[key], key
    assert long_events[1].data["pending_analysis"] is True and long_verdict["analysis"] == "video"
    assert long_verdict["previous_action"] == "allow" and long_verdict["uploader"] == "acct-long"
    assert short_events[2].data | {"uploader": None} == long_events[3].data | {"uploader": None}


def test_re_running_the_video_job_logs_and_enforces_nothing_twice(
    settings: Settings, server: LiveServer, api_key: str, db: Database
) -> None:
    """A crashed worker retries the analysis: the match log and enforcement see it once."""
    from haven.banks.models import Match
    from haven.screening.video import analyse_pending

    load_handlers()
    settings.video_inline_max_seconds = 1.0
    with server.client(api_key) as c:
        c.post("/v1/banks", json={"name": "known", "kind": "known_csam"})
        pdq = c.post("/v1/content", files={"file": ("c.jpg", encode(sample("coffee")))}).json()["hashes"]["pdq"]
        c.post("/v1/banks/known/entries", json={"entries": [{"signal_type": "pdq", "value": pdq}]})
        long = _upload(c, "long.mp4", make_video(["rocket", "coffee"], seconds_each=2), "acct-x")
    assert analyse_pending(db, settings, long["id"]) == "block"
    assert analyse_pending(db, settings, long["id"]) == "block"
    with db.session() as s:
        logged = s.scalars(select(Match).where(Match.content_id == long["id"])).all()
        assert len(logged) == 1
        kinds = [e.type for e in s.scalars(select(Event).where(Event.subject_id == long["id"]))]
        assert kinds.count("content.enforcement_requested") == 1
