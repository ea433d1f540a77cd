"""Messages get a verdict from the rules engine: `POST /v1/messages` answers allow, hold or block
with the rule that decided; flagging, nudges and preservation are the rule's actions; shadow
rules are observed on messages and can be promoted; and a custom rule can hold an unconnected
adult's first message to a minor ahead of the shipped youth rule, which holds every message of
an unconnected adult to a minor (docs/youth.md)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from haven.core.db import Database
from haven.core.models import Event
from haven.policy import ConversationView, PolicyInput, evaluate
from haven.policy.rules import RulesError, parse
from haven.policy.shipped import default_rules_text, default_ruleset
from haven.screening.rulesets import install, promote
from tests.conftest import LiveServer

SEXTORTION = ["hey", "i have ur pics", "pay me $200 in steam cards or i will send them to all ur friends", "well?"]


def _send(c: httpx.Client, conv: str, sender: str, to: str, text: str, i: int) -> dict[str, Any]:
    body = {"message_id": f"{conv}-{i}", "conversation_id": conv, "sender": sender, "recipients": [to], "text": text}
    r = c.post("/v1/messages", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _events(db: Database, type_: str, conv: str) -> list[Event]:
    with db.session() as s:
        rows = list(s.scalars(select(Event).where(Event.type == type_, Event.subject_id == conv).order_by(Event.id)))
        s.expunge_all()
        return rows


def test_conversation_conditions_decide_a_message() -> None:
    rs = default_ruleset()
    warn = ConversationView(scores={"sextortion": 0.9}, warned=("sextortion",), crossed=("sextortion",))
    d = evaluate(rs, PolicyInput(media_kind="text", conversation=warn))
    assert (d.verdict.action, d.verdict.rule) == ("allow", "conversation.sextortion_warning")
    assert set(d.actions) == {"review", "nudge", "preserve"} and d.verdict.labels == ["sextortion"]
    # The same warning with a minor among the recipients: the shadow hold rule would decide.
    to_minor = ConversationView(scores={"sextortion": 0.9}, warned=("sextortion",), recipient_bands=("13_15",))
    d = evaluate(rs, PolicyInput(media_kind="text", conversation=to_minor))
    assert d.verdict.rule == "no_match.allow"
    assert [(h.rule, h.verdict, h.would_decide) for h in d.shadow] == [("conversation.sextortion_hold", "hold", True)]
    # Content never meets a conversation condition.
    assert evaluate(rs, PolicyInput(media_kind="image")).verdict.rule == "no_match.allow"


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("verdict: hold\n    reason: x", "hold is a message verdict"),
        ("verdict: allow\n    actions: [review]\n    reason: x", "an allow verdict carries no actions"),
        ("verdict: review\n    actions: [nudge]\n    reason: x", "nudge needs a conversation condition"),
        (
            "verdict: hold\n    reason: x\n    when: {conversation: {recipient_bands: [minor]}}",
            "unknown age band 'minor'",
        ),
    ],
)
def test_the_check_keeps_message_verdicts_to_messages(rule: str, problem: str) -> None:
    text = default_rules_text().replace(
        "\n  - name: no_match.allow\n",
        f"\n  - name: custom.rule\n    when: {{media_kinds: [image]}}\n    {rule}\n\n  - name: no_match.allow\n",
        1,
    )
    with pytest.raises(RulesError) as exc:
        parse(text)
    assert any(problem in p for p in exc.value.problems), exc.value.problems


def test_sextortion_message_verdicts_shadow_and_promotion(server: LiveServer, api_key: str, db: Database) -> None:
    with server.client(api_key) as c:
        c.put("/v1/accounts/teen-9", json={"age_band": "16_17"})
        answers = [_send(c, "conv-x", "stranger", "teen-9", t, i) for i, t in enumerate(SEXTORTION, 1)]
    verdicts = [(a["verdict"]["action"], a["verdict"]["rule"]) for a in answers]
    assert verdicts[0] == ("allow", "no_match.allow")
    warned_at = next(i for i, a in enumerate(answers) if a["sextortion"]["warn"])
    assert verdicts[warned_at] == ("allow", "conversation.sextortion_warning")
    assert answers[warned_at]["nudges"] and answers[warned_at]["nudges"][0]["account_id"] == "teen-9"
    flagged = _events(db, "conversation.flagged", "conv-x")
    assert [(e.data["family"], e.data["rule"]) for e in flagged] == [("sextortion", "conversation.sextortion_warning")]
    received = _events(db, "message.received", "conv-x")
    assert [e.data["rule"] for e in received] == [r for _, r in verdicts]
    # The shadow hold rule was watched on every message after the warning, without effect.
    after = received[warned_at + 1 :]
    assert after and all(
        any(s["rule"] == "conversation.sextortion_hold" and s["would_decide"] for s in e.data["shadow"]) for e in after
    )

    with db.session() as s:
        install(s, default_rules_text().replace('version: "2026.1"', 'version: "2026.3"'), actor="cli")
        promote(s, "conversation.sextortion_hold", actor="cli")
    with server.client(api_key) as c:
        held = _send(c, "conv-x", "stranger", "teen-9", "tick tock", len(SEXTORTION) + 1)
    assert held["verdict"]["action"] == "hold" and held["verdict"]["rule"] == "conversation.sextortion_hold"
    assert held["nudges"] == []  # no fresh warning: the minor was nudged once already
    assert len(_events(db, "conversation.flagged", "conv-x")) == 2  # the hold asks a person to look


HOLD_FIRST_CONTACT = """
  - name: youth.first_contact_hold
    description: An adult who is no connection writes to a minor for the first time.
    when:
      conversation:
        {first_contact: true, connected: false, sender_bands: [adult], recipient_bands: [under_13, "13_15", "16_17"]}
    verdict: hold
    category: grooming
    actions: [review]
    reason: "first message from an unconnected adult to a minor; held until a person looks"

  - name: youth.unconnected_adult_warning
"""


def test_a_custom_rule_holds_an_unconnected_adults_first_message_to_a_minor(
    server: LiveServer, api_key: str, db: Database
) -> None:
    rules = default_rules_text().replace('version: "2026.1"', 'version: "2026.4"')
    with db.session() as s:
        install(s, rules.replace("\n  - name: youth.unconnected_adult_warning\n", HOLD_FIRST_CONTACT, 1), actor="cli")
    with server.client(api_key) as c:
        c.put("/v1/accounts/man-1", json={"age_band": "adult"})
        c.put("/v1/accounts/kid-1", json={"age_band": "13_15"})
        c.put("/v1/accounts/mum-1", json={"age_band": "adult"})
        first = _send(c, "c-1", "man-1", "kid-1", "hi there", 1)
        second = _send(c, "c-1", "man-1", "kid-1", "how was school", 2)
        adults = _send(c, "c-2", "man-1", "mum-1", "hi there", 1)
        body = {"conversation_id": "c-3", "sender": "mum-1", "recipients": ["kid-1"], "text": "hi", "connected": True}
        known = c.post("/v1/messages", json=body).json()
    assert (first["verdict"]["action"], first["verdict"]["rule"]) == ("hold", "youth.first_contact_hold")
    # No longer a first contact: the shipped rule holds it (still no connection), without a flag.
    assert (second["verdict"]["action"], second["verdict"]["rule"]) == ("hold", "youth.unconnected_adult_to_minor")
    assert adults["verdict"]["action"] == "allow" and known["verdict"]["action"] == "allow"
    flagged = _events(db, "conversation.flagged", "c-1")
    assert [(e.data["family"], e.data["action"]) for e in flagged] == [("grooming", "hold")]
