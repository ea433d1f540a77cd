"""Classifier scores through `POST /v1/content` over real HTTP: stored with the content, used by policy,
and the possible-new-material priority from age bands and surface.

The images are benign; to exercise the path where a picture counts as explicit, the tests lower the
explicit threshold below the benign picture's score (a stand-in, as banks label benign hashes)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from haven.core.db import Database
from haven.core.models import Event
from haven.core.settings import Settings
from haven.screening.models import ContentItem
from tests.conftest import LiveServer
from tests.helpers import encode, sample


@pytest.fixture(autouse=True)
def _inline(settings: Settings) -> None:
    """These tests read the scores in the upload's answer: classifiers in the request (the
    default defers them to the worker; tests/screening/test_deferred_classify.py)."""
    settings.classify_inline = True


def _events(db: Database, type_: str, subject: str) -> list[Event]:
    with db.session() as s:
        return list(s.scalars(select(Event).where(Event.type == type_, Event.subject_id == subject)))


def test_scores_are_stored_with_the_content_and_benign_stays_allowed(
    server: LiveServer, api_key: str, db: Database
) -> None:
    with server.client(api_key) as c:
        r = c.post("/v1/content", files={"file": ("a.jpg", encode(sample("astronaut")))})
        assert r.status_code == 200, r.text
        body = r.json()
    assert body["verdict"]["action"] == "allow"
    with db.session() as s:
        item = s.get(ContentItem, body["id"])
        assert item is not None
        scores = item.scores
    assert set(scores) == {"opennsfw", "apparent_age"}
    assert 0 <= scores["opennsfw"]["scores"]["nsfw"] < 0.3
    assert scores["apparent_age"]["scores"]["face"] > 0.5 and len(scores["apparent_age"]["details"]["faces"]) == 1
    (ev,) = _events(db, "content.verdict", body["id"])
    assert ev.data["priority"] == "NONE"


@pytest.fixture
def explicit_settings(settings: Settings) -> Settings:
    """Benign pictures count as "explicit" for the priority (threshold 0.0); their own opennsfw
    scores stay far below the rules' 0.85, so only the priority can send them to review."""
    settings.explicit_threshold = 0.0
    return settings


def test_explicit_image_to_minor_recipients_lands_in_review_with_priority(
    explicit_settings: Settings, server: LiveServer, api_key: str, db: Database
) -> None:
    meta = {"uploader": "adult-1", "surface": "message", "recipients": ["kid-1", "kid-2"]}
    with server.client(api_key) as c:
        for acc, band in (("adult-1", "adult"), ("kid-1", "13_15"), ("kid-2", "under_13")):
            assert c.put(f"/v1/accounts/{acc}", json={"age_band": band}).status_code == 200
        r = c.post(
            "/v1/content", files={"file": ("x.jpg", encode(sample("coffee")))}, data={"metadata": json.dumps(meta)}
        )
        body = r.json()
        # The same picture between adults on a public surface: not "possible new material".
        adult = c.post(
            "/v1/content",
            files={"file": ("y.jpg", encode(sample("chelsea")))},
            data={"metadata": json.dumps({"uploader": "adult-1", "surface": "upload"})},
        ).json()
    assert body["verdict"]["action"] == "review" and body["verdict"]["rule"] == "classifier.review"
    (ev,) = _events(db, "content.verdict", body["id"])
    assert ev.data["action"] == "review" and ev.data["priority"] in ("MEDIUM", "HIGH")
    assert "possible_new_csam" in ev.data["labels"] and "explicit_to_minor" in ev.data["labels"]
    assert ev.data["rule"] == "classifier.review"
    with db.session() as s:
        item = s.get(ContentItem, body["id"])
        assert item is not None and item.quarantine_id  # held for review: bytes kept, encrypted
        assert item.scores["new_material"]["details"]["level"] == ev.data["priority"]
        assert "2 recipient(s) are minors" in item.scores["new_material"]["details"]["reasons"]
    assert adult["verdict"]["action"] == "allow"
    (ev2,) = _events(db, "content.verdict", adult["id"])
    assert ev2.data["priority"] == "VERY_LOW" and ev2.data["labels"] == ["explicit_adult"]


def test_self_generated_from_a_minor_gets_higher_priority(
    explicit_settings: Settings, server: LiveServer, api_key: str, db: Database
) -> None:
    meta = {"uploader": "teen-1", "surface": "message", "recipients": ["teen-2"]}
    with server.client(api_key) as c:
        c.put("/v1/accounts/teen-1", json={"age_band": "16_17"})
        c.put("/v1/accounts/teen-2", json={"age_band": "16_17"})
        body = c.post(
            "/v1/content", files={"file": ("x.jpg", encode(sample("rocket")))}, data={"metadata": json.dumps(meta)}
        ).json()
    (ev,) = _events(db, "content.verdict", body["id"])
    assert ev.data["priority"] in ("HIGH", "VERY_HIGH") and "self_generated_content" in ev.data["labels"]


def test_possible_new_material_lands_in_its_queue_with_the_priority(
    explicit_settings: Settings, server: LiveServer, api_key: str, db: Database
) -> None:
    """Done-means of issue 6: explicit media sent to minors becomes a possible-new-material task
    ranked by the classifiers' priority (above an otherwise equal low-priority item)."""
    from haven.core import jobs
    from haven.review.models import ReviewTask
    from haven.worker import load_handlers

    with server.client(api_key) as c:
        for acc, band in (("adult-9", "adult"), ("kid-9", "under_13")):
            assert c.put(f"/v1/accounts/{acc}", json={"age_band": band}).status_code == 200
        to_minor = c.post(
            "/v1/content",
            files={"file": ("x.jpg", encode(sample("coffee")))},
            data={"metadata": json.dumps({"uploader": "adult-9", "surface": "message", "recipients": ["kid-9"]})},
        ).json()
    assert to_minor["verdict"]["action"] == "review"
    load_handlers()
    jobs.work(db, once=True)
    (ev,) = _events(db, "content.verdict", to_minor["id"])
    with db.session() as s:
        task = s.scalars(select(ReviewTask).where(ReviewTask.subject_id == to_minor["id"])).one()
        assert task.queue == "new_material"
        assert task.severity >= {"MEDIUM": 2, "HIGH": 3, "VERY_HIGH": 4}[ev.data["priority"]]
