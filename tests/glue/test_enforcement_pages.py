"""Enforcement pages in the console over real HTTP: the dead-letter list (admin and senior may
look; only an admin replays, with CSRF, audited) and the ladder as configured (read-only)."""

from __future__ import annotations

from sqlalchemy import select, update

from haven.core.db import Database
from haven.core.models import AuditRecord
from haven.enforce import webhooks
from haven.enforce.models import Delivery
from tests.conftest import LiveServer, make_key
from tests.enforce.doubles import receiver
from tests.enforce.test_webhook_flow import configure, drain
from tests.review.console_client import ConsoleClient
from tests.review.fixtures import PASSWORD, make_staff


def test_dead_letters_replay_and_ladder_pages(server: LiveServer, db: Database) -> None:
    admin_key = make_key(db, ["admin"])
    people = {role: make_staff(db, f"{role}@example.org", [role], trained=False) for role in ("admin", "senior")}
    _rid, rsecret = make_staff(db, "reviewer@example.org", ["reviewer"], trained=False)
    with receiver() as rec, server.client(admin_key) as a:
        configure(a, rec)
        with db.session() as s:
            row = webhooks.deliver(
                s,
                "tos.updated",
                {"version": "9"},
                subject_type="terms",
                subject_id="9",
                actor="cli",
                idempotency_key="k",
            )
            s.execute(update(Delivery).values(max_attempts=2))
            dead_id = row.id
        rec.fail_next = 5
        drain(db)
        assert rec.executed == []
        rec.fail_next = 0
        clients = {}
        for role, (_, secret) in people.items():
            clients[role] = ConsoleClient(server.url)
            clients[role].sign_in(f"{role}@example.org", PASSWORD, secret)
        rv = ConsoleClient(server.url)
        rv.sign_in("reviewer@example.org", PASSWORD, rsecret)

        # A reviewer may not look; a senior may look but not replay; an admin replays.
        assert rv.get("/console/enforcement/deliveries").status_code == 403
        assert rv.get("/console/enforcement/ladder").status_code == 403
        senior = clients["senior"].get("/console/enforcement/deliveries")
        assert senior.status_code == 200 and f'data-delivery="{dead_id}"' in senior.text
        assert "tos.updated" in senior.text and "HTTP 500" in senior.text and "/replay" not in senior.text
        assert clients["senior"].post(f"/console/enforcement/deliveries/{dead_id}/replay").status_code == 403
        page = clients["admin"].get("/console/enforcement/deliveries")
        assert page.status_code == 200 and f"/console/enforcement/deliveries/{dead_id}/replay" in page.text
        assert "dead (1)" in page.text and rec.url in page.text and "Webhooks" in page.text
        no_csrf = clients["admin"].post(f"/console/enforcement/deliveries/{dead_id}/replay", {"csrf_token": ""})
        assert no_csrf.status_code == 403
        r = clients["admin"].post(f"/console/enforcement/deliveries/{dead_id}/replay")
        assert r.status_code == 303 and r.headers["location"].endswith(f"?replayed={dead_id}")
        again = clients["admin"].post(f"/console/enforcement/deliveries/{dead_id}/replay")
        assert again.status_code == 422  # no longer a dead letter
        missing = clients["admin"].post("/console/enforcement/deliveries/nope/replay")
        assert missing.status_code == 404
        drain(db)
        assert [e["idempotency_key"] for e in rec.executed] == ["k"]
        assert "No dead deliveries" in clients["admin"].get("/console/enforcement/deliveries").text
        assert (
            f'data-delivery="{dead_id}"'
            in clients["admin"].get("/console/enforcement/deliveries?status=delivered").text
        )

        # The ladder as configured, read-only, for admins and seniors.
        for role in ("admin", "senior"):
            lad = clients[role].get("/console/enforcement/ladder")
            assert lad.status_code == 200
            html = lad.text
            assert "<td>severe</td><td>10</td><td>10</td><td>never</td>" in html
            assert "zero tolerance: terminates at once" in html
            assert "<td>6</td><td>suspend</td><td>—</td><td>30 days</td>" in html
            assert 'action="/console/enforcement' not in html  # read-only: nothing to submit
        for c in [*clients.values(), rv]:
            c.close()
    with db.session() as s:
        audit = s.scalars(select(AuditRecord).where(AuditRecord.action == "webhook.replay")).all()
        assert [(x.actor, x.object_id) for x in audit] == [(f"staff:{people['admin'][0]}", dead_id)]
