"""Terms of service over HTTP: public pages per version, acceptances, and `tos.updated`."""

from __future__ import annotations

from sqlalchemy import select

from haven.core.db import Database
from haven.core.models import Event
from tests.conftest import LiveServer, make_key
from tests.enforce.doubles import SECRET, receiver
from tests.enforce.test_webhook_flow import drain


def test_terms_versions_acceptances_and_webhook(server: LiveServer, api_key: str, db: Database) -> None:
    admin = make_key(db, ["admin"])
    with receiver() as rec, server.client(admin) as a, server.client(api_key) as c, server.client() as anon:
        a.put("/v1/webhook", json={"url": rec.url, "secret": SECRET})
        # The shipped terms are version 1, public, in HTML and Markdown.
        page = anon.get("/terms/1")
        assert page.status_code == 200 and "<h2>3. Child safety</h2>" in page.text
        assert anon.get("/terms/1", params={"format": "md"}).text.startswith("# Terms of service")
        assert anon.get("/terms", follow_redirects=False).headers["location"] == "/terms/1"
        assert anon.get("/terms/9").json()["error"]["code"] == "terms_not_found"
        r = a.post(
            "/v1/terms",
            json={
                "version": "2",
                "markdown": "# Terms v2\n\nNew rules.",
                "summary": "clearer",
                "effective_at": "2030-01-01T00:00:00Z",
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["url"].endswith("/terms/2")
        assert (
            a.post(
                "/v1/terms", json={"version": "2", "markdown": "x", "effective_at": "2030-01-01T00:00:00Z"}
            ).status_code
            == 409
        )
        assert (
            c.post(
                "/v1/terms", json={"version": "3", "markdown": "x", "effective_at": "2030-01-01T00:00:00Z"}
            ).status_code
            == 403
        )
        # Version 2 is published but not in effect yet.
        assert anon.get("/terms", follow_redirects=False).headers["location"] == "/terms/1"
        assert [t["version"] for t in c.get("/v1/terms").json()] == ["1", "2"]
        # Acceptances.
        r = c.post("/v1/accounts/acct-7/tos-acceptances", json={"version": "1", "accepted_at": "2026-02-01T10:00:00Z"})
        assert r.status_code == 201 and r.json()["version"] == "1"
        again = c.post("/v1/accounts/acct-7/tos-acceptances", json={"version": "1"})
        assert again.status_code == 200 and again.json()["accepted_at"].startswith("2026-02-01")
        assert c.post("/v1/accounts/acct-7/tos-acceptances", json={"version": "8"}).status_code == 404
        assert (
            c.post(
                "/v1/accounts/acct-7/tos-acceptances", json={"version": "1", "accepted_at": "2099-01-01T00:00:00Z"}
            ).json()["error"]["code"]
            == "invalid_accepted_at"
        )
        v2 = c.post("/v1/accounts/acct-7/tos-acceptances", json={"version": "2"})
        assert v2.status_code == 201, v2.text
        assert [x["version"] for x in c.get("/v1/accounts/acct-7/tos-acceptances").json()] == ["1", "2"]
        drain(db)
        updates = rec.actions("tos.updated")
        assert [u["data"]["version"] for u in updates] == ["2"]  # not the shipped default
        assert updates[0]["data"]["url"].endswith("/terms/2") and updates[0]["data"]["summary"] == "clearer"
    with db.session() as s:
        assert len(s.scalars(select(Event).where(Event.type == "tos.accepted")).all()) == 2
