"""The privacy console: only the `privacy` role; the export downloads what the API gives; an
erasure needs a reason and shows what was kept and why; both audited under the staff member."""

from __future__ import annotations

import json

from sqlalchemy import select

from haven.core.db import Database
from haven.core.models import AuditRecord
from haven.evidence.models import LegalHold
from tests.conftest import LiveServer, make_key
from tests.review.console_client import ConsoleClient
from tests.review.fixtures import PASSWORD, make_staff


def test_privacy_staff_export_and_erase_in_the_console(server: LiveServer, db: Database) -> None:
    key = make_key(db, ["intake", "accounts"])
    with server.client(key) as c:
        assert c.put("/v1/accounts/acct-7", json={"age_band": "16_17"}).status_code == 200
        assert c.put("/v1/accounts/acct-8", json={"age_band": "adult"}).status_code == 200
    with db.session() as s:
        s.add(LegalHold(account_id="acct-8", reason="preservation", created_by="staff:legal"))
    staff_id, secret = make_staff(db, "privacy@example.org", ["privacy"])
    p = ConsoleClient(server.url)
    assert p.sign_in("privacy@example.org", PASSWORD, secret).status_code == 200
    home = p.get("/console/privacy?account=acct-7")
    assert home.status_code == 200 and "Retention schedule in force" in home.text and "messages.unflagged" in home.text
    export = p.post("/console/privacy/accounts/acct-7/export", {"csrf_token": p.csrf})
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    body = json.loads(export.text)
    assert body["data"]["accounts"] == [{"id": "acct-7", "age_band": "16_17", "age_source": "declared"}]
    refused = p.post("/console/privacy/accounts/acct-7/erase", {"csrf_token": p.csrf, "reason": ""})
    assert refused.status_code == 422
    held = p.post("/console/privacy/accounts/acct-8/erase", {"csrf_token": p.csrf, "reason": "DSAR-2026-8"})
    assert held.status_code == 200 and "legal_hold" in held.text and "some data is kept" in held.text
    done = p.post("/console/privacy/accounts/acct-7/erase", {"csrf_token": p.csrf, "reason": "DSAR-2026-7"})
    assert done.status_code == 200 and "Everything was erased" in done.text
    with db.session() as s:
        actions = [
            (a.action, a.object_id)
            for a in s.scalars(select(AuditRecord).where(AuditRecord.actor == f"staff:{staff_id}"))
            if a.action.startswith("privacy.")
        ]
    assert ("privacy.dsar_access", "acct-7") in actions and ("privacy.erasure", "acct-7") in actions
    assert ("privacy.erasure_reason", "acct-8") in actions

    _, r_secret = make_staff(db, "rev@example.org", ["reviewer"])
    r = ConsoleClient(server.url)
    r.sign_in("rev@example.org", PASSWORD, r_secret)
    assert r.get("/console/privacy").status_code == 403
