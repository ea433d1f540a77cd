"""Image classifiers after the answer (the default): the upload is answered on hashes and matches,
a background thread classifies and settles again, raising the verdict to review when the scores
say so (and quarantining the bytes then); an item that stays allowed never has its bytes written.
Benign pictures; the explicit threshold is lowered so that a benign picture counts as explicit
for the priority (as in tests/classify/test_content_classify.py)."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select

from haven.core.db import Database
from haven.core.models import Event
from haven.core.settings import Settings
from haven.screening import deferred
from haven.screening.models import ContentItem, QuarantineObject
from tests.conftest import LiveServer
from tests.helpers import encode, sample


def _verdicts(db: Database, subject: str) -> list[dict]:
    with db.session() as s:
        q = select(Event).where(Event.type == "content.verdict", Event.subject_id == subject).order_by(Event.id)
        return [e.data for e in s.scalars(q)]


def test_classifiers_run_in_the_worker_and_raise_the_verdict(
    settings: Settings, server: LiveServer, api_key: str, db: Database
) -> None:
    assert settings.classify_inline is False  # the default
    settings.explicit_threshold = 0.0
    meta = {"uploader": "adult-1", "surface": "message", "recipients": ["kid-1"]}
    with server.client(api_key) as c:
        for acc, band in (("adult-1", "adult"), ("kid-1", "13_15")):
            assert c.put(f"/v1/accounts/{acc}", json={"age_band": band}).status_code == 200
        to_minor = c.post(
            "/v1/content", files={"file": ("x.jpg", encode(sample("coffee")))}, data={"metadata": json.dumps(meta)}
        ).json()
        public = c.post(
            "/v1/content",
            files={"file": ("y.jpg", encode(sample("chelsea")))},
            data={"metadata": json.dumps({"uploader": "adult-1", "surface": "upload"})},
        ).json()
    # Answered before any classifier ran: allowed on hashes, the classification pending.
    assert to_minor["verdict"]["action"] == "allow" and public["verdict"]["action"] == "allow"
    assert deferred.drain() <= 2
    first = _verdicts(db, to_minor["id"])[0]
    assert first["pending_analysis"] is True and first["action"] == "allow" and first["analysis"] is None

    raised = _verdicts(db, to_minor["id"])
    assert [v["action"] for v in raised] == ["allow", "review"]
    assert raised[1]["analysis"] == "classify" and raised[1]["previous_action"] == "allow"
    assert raised[1]["rule"] == "classifier.review" and "explicit_to_minor" in raised[1]["labels"]
    with db.session() as s:
        held = s.get(ContentItem, to_minor["id"])
        assert held is not None and held.verdict == "review" and held.quarantine_id  # quarantined for the reviewer
        assert set(held.scores) >= {"opennsfw", "apparent_age", "new_material"}
        kept = s.get(ContentItem, public["id"])
        assert kept is not None and kept.verdict == "allow" and kept.quarantine_id is None
        assert set(kept.scores) >= {"opennsfw", "apparent_age"}
        written = s.scalars(select(QuarantineObject).where(QuarantineObject.content_id == public["id"])).all()
        assert written == []  # allowed content's bytes are never written


def test_an_adults_own_upload_that_scores_as_a_minor_asks_for_reassurance_after_deferred_classifying(
    settings: Settings, server: LiveServer, api_key: str, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The apparent-age score of an own upload (profile, avatar, selfie) arrives with the deferred
    classification, after the upload was answered: the youth consumer must act on that
    settlement, not on the upload's first one (which has no score yet). The threshold is lowered
    so that a benign picture counts; a non-own surface never asks."""
    from haven.core import jobs
    from haven.youth import subscribers
    from haven.youth.models import ReassuranceRequest

    settings.apparent_minor_threshold = 0.0
    monkeypatch.setattr(subscribers, "get_settings", lambda: settings)  # the consumer reads the global
    # Hold the classification until the worker has run what the upload itself queued: in
    # production the worker often gets there first, and then the score was not there to read.
    gate = threading.Event()
    real = deferred.classify_settled

    def gated(*args, **kwargs):  # type: ignore[no-untyped-def]
        assert gate.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(deferred, "classify_settled", gated)
    with server.client(api_key) as c:
        assert c.put("/v1/accounts/adult-7", json={"age_band": "adult"}).status_code == 200
        for name, surface in (("p.jpg", "profile"), ("m.jpg", "message")):
            meta = {"uploader": "adult-7", "surface": surface}
            r = c.post(
                "/v1/content", files={"file": (name, encode(sample("coffee")))}, data={"metadata": json.dumps(meta)}
            )
            assert r.status_code == 200 and r.json()["verdict"]["action"] == "allow", r.text
    while jobs.work(db, once=True):  # the upload's own events first, no score yet
        pass
    gate.set()
    assert deferred.drain() <= 2
    while jobs.work(db, once=True):
        pass
    with db.session() as s:
        asked = s.scalars(select(ReassuranceRequest).where(ReassuranceRequest.account_id == "adult-7")).all()
        assert [(a.reason_code, "profile" in a.reason) for a in asked] == [("apparent_minor_upload", True)]
