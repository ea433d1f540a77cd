"""The task page over real HTTP: blurred greyscale previews made on the server, deliberate
reveals recorded per file (the `fileViewedByEsp` record), decisions with submit-and-next, the
exposure budget and break screen, and the admins' audit log with CSV export."""

from __future__ import annotations

import csv
import io
import re
import time

import numpy as np
from PIL import Image, ImageFilter
from sqlalchemy import select

from haven.core import jobs
from haven.core.db import Database
from haven.core.models import AuditRecord, Event
from haven.review import REVEAL_PURPOSE, file_views
from haven.screening.models import ContentItem
from tests.conftest import LiveServer
from tests.helpers import encode, sample
from tests.review.console_client import ConsoleClient, assert_accessible_form_controls
from tests.review.fixtures import PASSWORD, bank_and_flag, make_staff


def _views(db: Database, content_id: str) -> list:  # type: ignore[type-arg]
    with db.sessions() as s:
        return file_views(s, content_id)


def _edges(img: Image.Image) -> float:
    return float(np.asarray(img.convert("L").filter(ImageFilter.FIND_EDGES), dtype=np.float32).mean())


def test_task_page_reveal_decide_budget_and_audit(server: LiveServer, api_key: str, db: Database) -> None:
    copy = encode(sample("astronaut").resize((320, 320)), quality=80)
    with server.client(api_key) as c:
        first = bank_and_flag(c, encode(sample("astronaut"), quality=95), copy)
        assert first["verdict"]["action"] == "block"
        second = c.post(
            "/v1/content", files={"file": ("b.jpg", encode(sample("astronaut").resize((300, 300)), quality=70))}
        ).json()
        assert second["verdict"]["action"] == "block"
    jobs.work(db, once=True)
    cs_id, secret = make_staff(db, "cs@example.org", ["child_safety_reviewer"])
    admin_id, admin_secret = make_staff(db, "admin@example.org", ["admin"])
    c = ConsoleClient(server.url)
    c.sign_in("cs@example.org", PASSWORD, secret)
    r = c.post("/console/queues/known_material/next")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/tasks/")
    task_url = r.headers["location"]
    page = c.get(task_url)
    assert page.status_code == 200
    html = page.text
    assert "Known-material confirmation" in html and "known" in html and ">A1<" in html
    assert "Keyboard shortcuts" in html and 'id="submit-next"' in html
    assert "Content-Security-Policy" in page.headers and page.headers["cache-control"] == "no-store"
    assert assert_accessible_form_controls(html) >= 12  # decision, category, classes, annotations, note
    content_id = re.search(r'data-content="([0-9A-Z]{26})"', html).group(1)  # type: ignore[union-attr]
    preview_url = f"{task_url}/media/{content_id}/preview"
    file_url = f"{task_url}/media/{content_id}/file"
    assert f'src="{preview_url}"' in html and f'src="{file_url}"' not in html  # blurred by default
    # The preview is blurred and greyscale, made on the server.
    p = c.get(preview_url)
    assert p.status_code == 200 and p.headers["content-type"] == "image/jpeg"
    prev = Image.open(io.BytesIO(p.content))
    assert prev.mode == "L"
    orig = Image.open(io.BytesIO(copy)).convert("RGB")
    orig.thumbnail(prev.size)
    assert _edges(prev) < _edges(orig) / 4
    assert _views(db, content_id) == []  # a preview is not a view of the file
    # Revealing serves the file and records who, when and which file.
    f = c.get(file_url)
    assert f.status_code == 200 and f.content == copy
    assert f.headers["cache-control"].startswith("no-store")
    deadline = time.monotonic() + 5  # the view is recorded once the bytes were sent
    while not _views(db, content_id) and time.monotonic() < deadline:
        time.sleep(0.02)
    views = _views(db, content_id)
    assert len(views) == 1 and views[0].actor == f"staff:{cs_id}"
    with db.session() as s:
        item = s.get(ContentItem, content_id)
        assert item is not None and views[0].quarantine_id == item.quarantine_id
        rec = s.scalar(select(AuditRecord).where(AuditRecord.purpose == REVEAL_PURPOSE))
        assert rec is not None and rec.action == "media.view" and rec.source_ip == "127.0.0.1"
    # Without JavaScript the reveal is a link that shows the file in the page.
    assert f'src="{file_url}"' in c.get(f"{task_url}?reveal={content_id}").text
    # Budget of one child-safety item per session: the decision is taken, then a break is offered.
    r = c.post("/console/wellness", {"blur": "30", "greyscale": "1", "muted": "1", "per_session": "1", "per_day": "5"})
    assert r.status_code == 303
    c.get(task_url)
    r = c.post(
        f"{task_url}/decide",
        {"decision": "violation", "category": "csam", "classification": "A1", "annotations": ["viral"], "then": "next"},
    )
    assert r.status_code == 303 and r.headers["location"].split("?")[0] == "/console/break"
    assert "Time for a break" in c.get("/console/break").text
    home = c.get("/console/").text
    assert "paused: exposure budget" in home
    for url in ("/console/", "/console/wellness", "/console/account", "/console/training"):
        assert_accessible_form_controls(c.get(url).text)
    exp = c.get("/console/exposure").text
    assert 'id="exp-session">1 of 1' in exp and 'id="exp-reveals">1' in exp  # the page alone loads nothing
    r = c.post("/console/queues/known_material/next")
    assert r.status_code == 303 and r.headers["location"].split("?")[0] == "/console/break"
    with db.session() as s:
        ev = s.scalar(select(Event).where(Event.type == "review.decision"))
        assert ev is not None and ev.data["annotations"] == ["viral"] and ev.data["classification"] == "A1"
    # The admins' audit log: filter by staff member, export everything as CSV.
    a = ConsoleClient(server.url)
    a.sign_in("admin@example.org", PASSWORD, admin_secret)
    page = a.get("/console/admin/audit", params={"staff": "cs@example.org", "action": "media.view"})
    assert page.status_code == 200 and page.text.count(REVEAL_PURPOSE) == 1
    assert "staff.sign_in" not in page.text
    assert_accessible_form_controls(page.text)
    # A decision's record links to what followed it (issue 18 item 5: on the page and in the audit log).
    decided = a.get("/console/admin/audit", params={"action": "review.decision"}).text
    found = re.search(r'href="(/console/decisions/[^"]+)">what followed</a>', decided)
    assert found is not None, decided
    followed = a.get(found.group(1))
    assert followed.status_code == 200 and 'id="followups"' in followed.text
    assert_accessible_form_controls(a.get("/console/admin/staff").text)
    out = a.get("/console/admin/audit", params={"staff": "cs@example.org", "format": "csv"})
    assert out.status_code == 200 and out.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(out.text)))
    assert {r["action"] for r in rows} >= {"media.view", "review.decision", "staff.sign_in"}
    assert all(r["actor_email"] == "cs@example.org" for r in rows)
    assert [r for r in rows if r["purpose"] == REVEAL_PURPOSE and r["object_id"] == views[0].quarantine_id]
    del admin_id, second
