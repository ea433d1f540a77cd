"""Intake decides with the installed rules: shadow rules are logged on the verdict event without
changing the answer, and rules can read the uploader's context (age band, strikes)."""

from __future__ import annotations

from sqlalchemy import select

from haven.core.db import Database
from haven.core.models import Event
from haven.policy.shipped import default_rules_text
from haven.screening.rulesets import install, promote
from tests.conftest import LiveServer
from tests.enforce.test_webhook_flow import upload

SHADOW = """
  - name: minors.uploads_watch
    mode: shadow
    when:
      account: {age_bands: [minor]}
      surfaces: [upload]
    verdict: review
    category: obscene_to_minor
    actions: [review]
    reason: "uploads by minors are watched"

  - name: no_match.allow
"""


def test_shadow_rule_is_logged_then_promoted(server: LiveServer, api_key: str, db: Database) -> None:
    rules = default_rules_text().replace('version: "2026.1"', 'version: "2026.2"')
    rules = rules.replace("\n  - name: no_match.allow\n", SHADOW, 1)
    with db.session() as s:
        install(s, rules, actor="cli")
    with server.client(api_key) as c:
        c.post("/v1/accounts/kid-1/tos-acceptances", json={"version": "1"})
        from haven.accounts.models import Account

        with db.session() as s:
            acct = s.get(Account, "kid-1")
            assert acct is not None
            acct.age_band = "minor"
        first = upload(c, "coffee", "kid-1")
        assert first["verdict"] == {"action": "allow", "rule": "no_match.allow", "reason": "no known-material match"}
        adult = upload(c, "rocket", "grown-up")
        with db.session() as s:
            ev = {e.subject_id: e.data for e in s.scalars(select(Event).where(Event.type == "content.verdict"))}
        assert ev[first["id"]]["shadow"] == [
            {"rule": "minors.uploads_watch", "verdict": "review", "would_decide": True}
        ]
        assert ev[first["id"]]["ruleset_version"] == "2026.2"
        assert ev[adult["id"]]["shadow"] == []
        with db.session() as s:
            promote(s, "minors.uploads_watch", actor="cli")
        second = upload(c, "chelsea", "kid-1")
        assert second["verdict"]["action"] == "review" and second["verdict"]["rule"] == "minors.uploads_watch"
