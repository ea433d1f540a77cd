"""The task page's "show file metadata (EXIF)": a deliberate act that shows the metadata (never
the picture), is written to the audit log as `media.exif_view` — what makes `exifViewedByEsp`
true in a CyberTipline report — and does not count as a view of the file."""

from __future__ import annotations

import io
import re

from PIL import ExifTags, Image
from sqlalchemy import select

from haven.core import jobs
from haven.core.db import Database
from haven.core.models import AuditRecord
from haven.cybertip import cases
from haven.review import file_views
from haven.screening.models import ContentItem
from tests.conftest import LiveServer
from tests.helpers import encode, sample
from tests.review.console_client import ConsoleClient
from tests.review.fixtures import PASSWORD, bank_and_flag, make_staff


def _with_exif(img: Image.Image) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "HavenTestCam"
    exif[ExifTags.Base.Model] = "Benign 1"
    exif[ExifTags.Base.DateTime] = "2024:01:02 03:04:05"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (52.0, 22.0, 1.5)}
    )
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80, exif=exif)
    return buf.getvalue()


def test_exif_reveal_is_audited_and_is_not_a_file_view(server: LiveServer, api_key: str, db: Database) -> None:
    copy = _with_exif(sample("chelsea"))
    with server.client(api_key) as c:
        flagged = bank_and_flag(c, encode(sample("chelsea"), quality=95), copy)
    jobs.work(db, once=True)
    cs_id, secret = make_staff(db, "cs@example.org", ["child_safety_reviewer"])
    _, other_secret = make_staff(db, "other@example.org", ["child_safety_reviewer"])
    c = ConsoleClient(server.url)
    c.sign_in("cs@example.org", PASSWORD, secret)
    task_url = c.post("/console/queues/known_material/next").headers["location"]
    page = c.get(task_url)
    exif_url = f"{task_url}/media/{flagged['id']}/exif"
    assert f'href="{exif_url}"' in page.text and "Show file metadata (EXIF)" in page.text
    with db.session() as s:
        assert not s.scalars(select(AuditRecord).where(AuditRecord.action == "media.exif_view")).all()

    # Someone who does not hold the task cannot open it, and nothing is recorded.
    other = ConsoleClient(server.url)
    other.sign_in("other@example.org", PASSWORD, other_secret)
    assert other.get(exif_url).status_code == 403

    # htmx asks for the fragment; without JavaScript it is a page of its own.
    frag = c.get(exif_url, headers={"HX-Request": "true"})
    assert frag.status_code == 200 and "<html" not in frag.text
    assert "HavenTestCam" in frag.text and "Benign 1" in frag.text and "2024:01:02 03:04:05" in frag.text
    assert "GPS GPSLatitudeRef" in frag.text and "exifViewedByEsp" in frag.text
    assert "<img" not in frag.text  # the metadata, never the picture
    full = c.get(exif_url)
    assert full.status_code == 200 and "<h1>File metadata (EXIF)</h1>" in full.text and "HavenTestCam" in full.text
    assert full.headers["cache-control"] == "no-store"

    with db.session() as s:
        item = s.get(ContentItem, flagged["id"])
        assert item is not None
        records = list(s.scalars(select(AuditRecord).where(AuditRecord.action == "media.exif_view")))
        assert len(records) == 2
        assert {(r.actor, r.object_type, r.object_id, r.details["content_id"]) for r in records} == {
            (f"staff:{cs_id}", "quarantine_object", item.quarantine_id, item.id)
        }
        # The bytes were a machine read, not a view: fileViewedByEsp stays false.
        reads = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "media.read", AuditRecord.purpose == "review.exif_view")
        ).all()
        assert len(reads) == 2
        assert file_views(s, item.id) == [] and cases.recorded_views(s, item) == []
        assert cases.exif_viewed(s, item)
        assert [r.actor for r in cases.exif_views(s, item)] == [f"staff:{cs_id}"] * 2


def test_exif_of_a_file_without_metadata(server: LiveServer, api_key: str, db: Database) -> None:
    with server.client(api_key) as c:
        flagged = bank_and_flag(c, encode(sample("coffee"), quality=95), encode(sample("coffee"), quality=70))
    jobs.work(db, once=True)
    _, secret = make_staff(db, "cs@example.org", ["child_safety_reviewer"])
    c = ConsoleClient(server.url)
    c.sign_in("cs@example.org", PASSWORD, secret)
    task_url = c.post("/console/queues/known_material/next").headers["location"]
    r = c.get(f"{task_url}/media/{flagged['id']}/exif", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "carries no EXIF metadata" in r.text
    assert re.search(r"<td>", r.text) is None
