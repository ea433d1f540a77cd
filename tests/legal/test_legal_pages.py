"""The console's law-enforcement requests (role `legal`) over real HTTP: overdue requests first and
highlighted, verification and non-disclosure shown, what the process allows, verification and
production through the forms (CSRF checked, the package limited by the kind of process)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest

from haven.core.clock import now
from haven.core.db import Database
from haven.core.settings import Settings
from haven.legal import service
from haven.legal.models import LegalRequest
from tests.conftest import LiveServer
from tests.cybertip.fixtures import LEGAL, LiveDouble, configure, make_item
from tests.review.conftest import _fast_argon2  # noqa: F401  (cheap argon2 for staff sign-in)
from tests.review.console_client import ConsoleClient, assert_accessible_form_controls
from tests.review.fixtures import PASSWORD, make_staff


def test_legal_requests_pages(
    server: LiveServer, db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    with db.session() as s:
        make_item(s, settings, 61, uploader="user-target")
        late = service.create_request(
            s,
            LEGAL,
            kind="subpoena",
            agency="State Police",
            requester_name="Sgt. Park",
            targets=["user-target"],
            reference="SP-7",
            due_at=now() - timedelta(hours=3),
        )
        warrant = service.create_request(
            s,
            LEGAL,
            kind="search_warrant",
            agency="FBI",
            requester_name="SA Diaz",
            targets=["user-target", "user-unknown"],
            nondisclosure_until=now() + timedelta(days=180),
        )
        late_id, warrant_id = late.id, warrant.id
    _, secret = make_staff(db, "counsel@example.org", ["legal"])
    _, admin_secret = make_staff(db, "admin@example.org", ["admin"])
    c = ConsoleClient(server.url)
    c.sign_in("counsel@example.org", PASSWORD, secret)

    listing = c.get("/console/legal")
    assert listing.status_code == 200
    ids = re.findall(r'<tr data-request="([0-9A-Z]+)"', listing.text)
    assert ids == [late_id, warrant_id]  # overdue first
    late_row = re.search(rf'<tr data-request="{late_id}" class="([^"]*)">(.*?)</tr>', listing.text, re.S)
    assert late_row and late_row.group(1) == "overdue-row" and "overdue by" in late_row.group(2)
    assert "unverified" in late_row.group(2)
    warrant_row = re.search(rf'<tr data-request="{warrant_id}" class="">(.*?)</tr>', listing.text, re.S)
    assert warrant_row and "order until" in warrant_row.group(1) and "left" in warrant_row.group(1)

    page = c.get(f"/console/legal/{late_id}")
    assert page.status_code == 200
    assert_accessible_form_controls(page.text)
    assert 'data-allowed="subscriber"' in page.text
    assert 'data-refused="non_content"' in page.text and 'data-refused="content"' in page.text
    assert "<code>user-target</code>" in page.text and "Verify the requester" in page.text
    assert "Download the production package" not in page.text  # not before verification
    warrant_page = c.get(f"/console/legal/{warrant_id}")
    assert "in force until" in warrant_page.text and "no such account" in warrant_page.text
    assert all(f'data-allowed="{k}"' in warrant_page.text for k in ("subscriber", "non_content", "content"))

    # Verify: CSRF refused, a note required, then recorded.
    form = {"outcome": "verified", "note": "Called the State Police main line; confirmed SP-7."}
    assert c.post(f"/console/legal/{late_id}/verify", {**form, "csrf_token": ""}).status_code == 403
    r = c.post(f"/console/legal/{late_id}/verify", {**form, "note": " "})
    assert r.status_code == 422 and "say how the requester was" in r.text
    assert c.post(f"/console/legal/{late_id}/verify", form).status_code == 303
    with db.session() as s:
        req = s.get(LegalRequest, late_id)
        assert req is not None and req.verification == "verified"
    page = c.get(f"/console/legal/{late_id}")
    assert 'name="include" value="subscriber"' in page.text
    assert 'value="content"' not in page.text  # the form offers only what the process allows

    # A hand-made request for more than a subpoena allows is refused by the package builder.
    r = c.post(f"/console/legal/{late_id}/produce", {"include": ["subscriber", "content"], "purpose": "SP-7"})
    assert r.status_code == 403 and "does not allow producing content" in r.text
    r = c.post(f"/console/legal/{late_id}/produce", {"include": ["subscriber"], "purpose": ""})
    assert r.status_code == 400 and "purpose" in r.text
    r = c.post(f"/console/legal/{late_id}/produce", {"include": ["subscriber"], "purpose": "subpoena SP-7"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert 'filename="production-SP-7.zip"' in r.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = set(z.namelist())
        assert "subscriber.json" in names and "records.json" not in names
        assert json.loads(z.read("subscriber.json"))[0]["account_id"] == "user-target"

    # The user-notice decision: refused while the warrant's non-disclosure order runs.
    r = c.post(f"/console/legal/{warrant_id}/notice", {"decision": "notify", "reason": "policy"})
    assert r.status_code == 409 and "non-disclosure order forbids" in r.text
    assert c.post(f"/console/legal/{warrant_id}/notice", {"decision": "withhold", "reason": ""}).status_code == 400
    assert c.post(f"/console/legal/{warrant_id}/notice", {"decision": "withhold", "reason": "NDO"}).status_code == 303
    assert c.post(f"/console/legal/{late_id}/notice", {"decision": "notify", "reason": "no order"}).status_code == 303
    with db.session() as s:
        notices = {r.id: r.user_notice for r in s.query(LegalRequest)}
    assert notices == {warrant_id: "withhold", late_id: "notify"}

    admin = ConsoleClient(server.url)
    admin.sign_in("admin@example.org", PASSWORD, admin_secret)
    assert admin.get("/console/legal").status_code == 403
    assert admin.get(f"/console/legal/{late_id}").status_code == 403
