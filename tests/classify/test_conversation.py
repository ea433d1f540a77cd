"""The conversation detector (pure) and `POST /v1/messages` / `PUT /v1/accounts/{id}` over HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from haven.classify.conversation.detector import ConversationState, Detector, MessageContext
from haven.classify.conversation.lexicon import fire
from haven.classify.conversation.normalise import normalise, squashed
from haven.classify.models import Conversation, ConversationMessage
from haven.core.db import Database
from haven.core.models import Event
from tests.conftest import LiveServer

GROOMER = [
    "hey i saw ur drawing, ur really talented",
    "how old r u btw?",
    "ur so mature for ur age",
    "do ur parents check ur phone?",
    "add me on sn@pchat its more private",
    "dont tell anyone we talk ok? its our secret",
]


def _fired(text: str) -> list[str]:
    return [n for n, _ in fire(normalise(text), squashed(text))]


@pytest.mark.parametrize(
    ("text", "behaviour"),
    [
        ("d0nt t3ll ur p4r3nts about us", "secrecy"),
        ("D O N T  T E L L  A N Y O N E", "secrecy"),
        ("add me on s.n.a.p", "platform_move"),
        ("are u home alone rn?", "risk_assessment"),
        ("cuantos años tienes?", "personal_questions"),
        ("wie alt bist du", "personal_questions"),
        ("ne le dis à personne", "secrecy"),
        ("schick mir ein foto", "image_request"),
        ("i have ur pics", "possession_claim"),
        ("pay me $200 in steam cards", "payment_demand"),
        ("pay me $200 in steam cards", "gift_card_crypto"),
        ("or i will send them to all ur friends", "threat_share"),
        ("you have 30 minutes", "deadline"),
    ],
)
def test_rules_see_through_leetspeak_spacing_and_languages(text: str, behaviour: str) -> None:
    assert behaviour in _fired(text)


@pytest.mark.parametrize(
    "text",
    [
        "dont tell mom about the surprise party!!",
        "lol that boss fight was insane",
        "what time is practice tomorrow",
        "gg, ur so good at this game",
        "can you send the homework answers",
    ],
)
def test_everyday_lines_fire_no_risky_behaviour(text: str) -> None:
    assert not set(_fired(text)) & {"secrecy", "risk_assessment", "platform_move", "threat_share", "sexualisation"}


def _run(lines: list[str], ctx: MessageContext, sender: str = "a") -> list:
    det = Detector(0.6, 0.5)
    st = ConversationState()
    return [det.update(st, sender=sender, text=t, context=ctx, message_id=f"m{i}") for i, t in enumerate(lines, 1)]


def test_adult_to_minor_grooming_warns_early_with_behaviours_and_places() -> None:
    results = _run(GROOMER, MessageContext("adult", ["13_15"], first_contact=True))
    warn_turn = next(r.turn for r in results if r.grooming.warn)
    assert warn_turn == 4
    assert [r.grooming.crossed for r in results].count(True) == 1
    last = results[-1].grooming
    where = {b["behaviour"]: (b["turn"], b["message_id"]) for b in last.behaviours}
    assert where["personal_questions"] == (2, "m2")
    assert where["risk_assessment"] == (4, "m4")
    assert where["platform_move"] == (5, "m5") and where["secrecy"] == (6, "m6")
    assert results[0].relationship == ["adult_minor_asymmetry", "first_contact_non_connection"]
    assert last.score > results[3].grooming.score > results[1].grooming.score


def test_the_same_words_between_adults_or_known_connections_stay_quieter() -> None:
    adults = _run(GROOMER, MessageContext("adult", ["adult"]))
    assert not any(r.grooming.warn for r in adults)
    connected = _run(GROOMER[:4], MessageContext("adult", ["13_15"], connected=True))
    stranger = _run(GROOMER[:4], MessageContext("adult", ["13_15"], first_contact=True))
    assert connected[-1].grooming.score < stranger[-1].grooming.score


def test_sextortion_script_warns_on_the_threat() -> None:
    lines = ["i have ur pics", "pay me $200 in steam cards", "or i will send them to all ur friends. u have 30 mins"]
    results = _run(lines, MessageContext("unknown", ["16_17"]))
    assert [r.sextortion.warn for r in results] == [False, True, True]
    assert {b["behaviour"] for b in results[-1].sextortion.behaviours} >= {"threat_share", "payment_demand", "deadline"}
    assert not any(r.grooming.warn for r in results)


def test_relationship_signals_fan_out_and_after_block_raise_risk() -> None:
    base = _run(GROOMER[:2], MessageContext("adult", ["13_15"]))[-1].grooming.score
    fan = _run(GROOMER[:2], MessageContext("adult", ["13_15"], fan_out_minors=7))[-1]
    blocked = _run(GROOMER[:2], MessageContext("adult", ["13_15"], after_block=True))[-1]
    assert "fan_out" in fan.relationship and fan.grooming.score == pytest.approx(base + 0.2)
    assert "after_block" in blocked.relationship and blocked.grooming.score == pytest.approx(base + 0.25)


def test_state_round_trips_through_json() -> None:
    det = Detector()
    st = ConversationState()
    for t in GROOMER[:3]:
        det.update(st, sender="a", text=t, context=MessageContext("adult", ["13_15"]))
    again = ConversationState.from_json(st.to_json())
    r1 = det.update(st, sender="a", text=GROOMER[3], context=MessageContext("adult", ["13_15"]))
    r2 = det.update(again, sender="a", text=GROOMER[3], context=MessageContext("adult", ["13_15"]))
    assert r1.grooming.score == r2.grooming.score and r1.turn == r2.turn == 4


# --- over HTTP -------------------------------------------------------------------------------


def _msg(conv: str, sender: str, to: str, text: str, i: int) -> dict:
    return {
        "message_id": f"{conv}-{i}",
        "conversation_id": conv,
        "sender": sender,
        "recipients": [to],
        "text": text,
        "sent_at": f"2026-11-21T10:{i:02d}:00Z",
    }


def test_grooming_conversation_is_flagged_early_and_the_child_nudged(
    server: LiveServer, api_key: str, db: Database
) -> None:
    with server.client(api_key) as c:
        assert c.put("/v1/accounts/man-1", json={"age_band": "adult"}).json()["age_band"] == "adult"
        assert c.put("/v1/accounts/kid-1", json={"age_band": "13_15"}).status_code == 200
        answers = [
            c.post("/v1/messages", json=_msg("conv-1", "man-1", "kid-1", t, i)).json() for i, t in enumerate(GROOMER, 1)
        ]
        reply = c.post("/v1/messages", json=_msg("conv-1", "kid-1", "man-1", "ok", 9)).json()
    assert [a["turn"] for a in answers] == [1, 2, 3, 4, 5, 6] and reply["turn"] == 7
    # Round 5: the trained model (risky threshold chosen by CV over six writers) warns on "ur so
    # mature for ur age" from an adult stranger to a 13-15, a turn before the rules' alone-check.
    assert [a["grooming"]["warn"] for a in answers] == [False, False, True, True, True, True]
    third, fourth = answers[2], answers[3]
    assert [b["source"] for b in third["grooming"]["behaviours"] if b["turn"] == 3] == ["rules", "model"]
    assert {"behaviour": "risk_assessment", "message_id": "conv-1-4", "turn": 4}.items() <= next(
        b for b in fourth["grooming"]["behaviours"] if b["behaviour"] == "risk_assessment"
    ).items()
    assert third["nudges"][0]["account_id"] == "kid-1" and "block and report" in third["nudges"][0]["body"]
    assert fourth["nudges"] == [] and answers[4]["nudges"] == []  # once per conversation and family
    assert fourth["relationship"] == ["adult_minor_asymmetry", "first_contact_non_connection"]
    with db.session() as s:
        conv = s.get(Conversation, "conv-1")
        assert conv is not None and conv.grooming_warned_turn == 3 and conv.preserved and conv.turns == 7
        assert (
            len(s.scalars(select(ConversationMessage).where(ConversationMessage.conversation_id == "conv-1")).all())
            == 7
        )
        (flag,) = s.scalars(select(Event).where(Event.type == "conversation.flagged")).all()
        assert flag.data["family"] == "grooming" and flag.data["priority"] == "HIGH"
        assert flag.data["sender"] == "man-1" and flag.data["recipients"] == ["kid-1"]
        assert {b["message_id"] for b in flag.data["grooming"]["behaviours"]} == {"conv-1-2", "conv-1-3"}
        (nudge,) = s.scalars(select(Event).where(Event.type == "safety.nudge")).all()
        assert nudge.subject_id == "kid-1" and nudge.data["message"]["family"] == "grooming"


def test_sextortion_gets_a_very_high_flag_and_a_take_it_down_nudge(
    server: LiveServer, api_key: str, db: Database
) -> None:
    lines = ["i have ur pics", "pay me $200 in steam cards or i will send them to all ur friends"]
    with server.client(api_key) as c:
        c.put("/v1/accounts/teen-9", json={"age_band": "16_17"})
        answers = [
            c.post("/v1/messages", json=_msg("conv-x", "stranger", "teen-9", t, i)).json()
            for i, t in enumerate(lines, 1)
        ]
    assert answers[-1]["sextortion"]["warn"]
    # A stranger telling a 16-year-old "i have ur pics" is not yet the threat and demand; the rules
    # wait for it, the trained model may warn one message early (and then says so).
    first = answers[0]["sextortion"]
    assert not first["warn"] or any(b["source"] == "model" for b in first["behaviours"]), first
    nudge = answers[-1]["nudges"][0]
    assert "do not pay" in nudge["body"] and "you are not in trouble" in nudge["body"].lower()
    assert "take_it_down" in nudge["actions"] and nudge["links"]["take_it_down"].startswith("https://")
    with db.session() as s:
        (flag,) = s.scalars(select(Event).where(Event.type == "conversation.flagged")).all()
        assert flag.data["family"] == "sextortion" and flag.data["priority"] == "VERY_HIGH" and flag.data["preserved"]


def test_everyday_chats_stay_quiet(server: LiveServer, api_key: str, db: Database) -> None:
    chats = {
        "party": [("amy", "ben", "dont tell mom about the surprise party!!"), ("ben", "amy", "lol ok, saturday at 3?")],
        "game": [("kid-a", "kid-b", "gg that boss fight was insane"), ("kid-b", "kid-a", "add me on discord later")],
        "family": [("mum", "kid-c", "where are you? dinner is ready"), ("kid-c", "mum", "omw, 5 min")],
    }
    with server.client(api_key) as c:
        for acc, band in (
            ("amy", "13_15"),
            ("ben", "13_15"),
            ("kid-a", "13_15"),
            ("kid-b", "13_15"),
            ("mum", "adult"),
            ("kid-c", "under_13"),
        ):
            c.put(f"/v1/accounts/{acc}", json={"age_band": band})
        for conv, lines in chats.items():
            for i, (a, b, t) in enumerate(lines):
                body = {**_msg(conv, a, b, t, i), "connected": True}
                r = c.post("/v1/messages", json=body).json()
                assert not r["grooming"]["warn"] and not r["sextortion"]["warn"], (conv, t, r)
    with db.session() as s:
        assert s.scalars(select(Event).where(Event.type.in_(["conversation.flagged", "safety.nudge"]))).all() == []


def test_contact_after_a_block_is_a_signal(server: LiveServer, api_key: str) -> None:
    with server.client(api_key) as c:
        c.put("/v1/accounts/kid-z", json={"age_band": "under_13"})
        c.put("/v1/accounts/adult-z", json={"age_band": "adult"})
        assert c.post("/v1/accounts/kid-z/blocks", json={"blocked": "adult-z"}).json()["created"] is True
        assert c.post("/v1/accounts/kid-z/blocks", json={"blocked": "adult-z"}).json()["created"] is False
        r = c.post("/v1/messages", json=_msg("conv-z", "adult-z", "kid-z", "hey its me again", 1)).json()
    assert "after_block" in r["relationship"]


def test_bad_input_is_4xx(server: LiveServer, api_key: str, db: Database) -> None:
    from tests.conftest import make_key

    with server.client(api_key) as c:
        r = c.put("/v1/accounts/x", json={"age_band": "child"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
        assert c.post("/v1/messages", json={"conversation_id": "c", "sender": "a"}).status_code == 422
        r = c.post("/v1/messages", json={"conversation_id": "c", "sender": "a", "recipients": ["a"], "text": "hi"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_recipients"
        r = c.post("/v1/messages", json={**_msg("c", "a", "b", "x", 1), "sent_at": "2026-11-21T10:00:00"})
        assert r.status_code == 422
        assert c.post("/v1/messages", json=_msg("shared", "a", "b", "hi", 1)).status_code == 200
        assert c.post("/v1/accounts/a/blocks", json={"blocked": "a"}).json()["error"]["code"] == "invalid_block"
    other = make_key(db, ["intake"])
    with server.client(other) as c:
        r = c.post("/v1/messages", json=_msg("shared", "a", "b", "hi", 2))
        assert r.status_code == 409 and r.json()["error"]["code"] == "conversation_conflict"
        assert c.put("/v1/accounts/a", json={"age_band": "adult"}).status_code == 403  # needs the accounts scope


def test_the_detector_behind_the_one_classifier_protocol(tmp_path) -> None:
    from haven.classify import Classifier, Content, Registry, Turn
    from haven.classify.conversation.classifier import ConversationClassifier
    from haven.core.settings import Settings

    clf = ConversationClassifier(Detector(0.5, 0.5), bands={"a": "adult", "b": "13_15"})
    assert isinstance(clf, Classifier)
    turns = [
        Turn("a" if i % 2 == 0 else "b", t, f"m{i}")
        for i, t in enumerate([GROOMER[1], "14", GROOMER[3], "no", GROOMER[4]])
    ]
    out = clf.classify(Content.of_conversation(turns))
    assert out.scores["grooming"] >= 0.5 and out.scores["child_access"] == out.scores["grooming"]
    assert out.details["warned"]["grooming"] in (3, 5)
    assert {b["message_id"] for b in out.details["behaviours"]} == {"m0", "m2", "m4"}
    quiet = clf.classify(Content.of_text("see you at practice"))
    assert quiet.scores["grooming"] == 0.0
    reg = Registry(Settings(var_dir=tmp_path, classifiers={"chat": ["conversation"]}, semantic_detector=False))
    stored = reg.run("chat", Content.of_text("i have ur pics. pay me $200 or i will send them to all ur friends"))
    assert stored["conversation"]["scores"]["sextortion"] >= 0.5


def test_concurrent_first_messages_of_one_conversation_all_count(
    server: LiveServer, api_key: str, db: Database
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def send(i: int) -> int:
        with server.client(api_key) as c:
            return c.post("/v1/messages", json=_msg("race", f"s{i % 2}", "kid-r", f"hello {i}", i)).status_code

    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(send, range(6)))
    assert codes == [200] * 6
    with db.session() as s:
        conv = s.get(Conversation, "race")
        assert conv is not None and conv.turns == 6
        turns = sorted(
            m.turn for m in s.scalars(select(ConversationMessage).where(ConversationMessage.conversation_id == "race"))
        )
        assert turns == [1, 2, 3, 4, 5, 6]


def test_a_picture_sent_by_the_child_after_a_request_is_linked_and_raises_risk(
    server: LiveServer, api_key: str, db: Database
) -> None:
    from tests.helpers import encode, sample

    with server.client(api_key) as c:
        c.put("/v1/accounts/kid-p", json={"age_band": "13_15"})
        c.put("/v1/accounts/adult-p", json={"age_band": "adult"})
        first = c.post("/v1/messages", json=_msg("conv-p", "adult-p", "kid-p", "send me a pic", 1)).json()
        pic = c.post("/v1/content", files={"file": ("p.jpg", encode(sample("coffee")))}).json()
        body = {**_msg("conv-p", "kid-p", "adult-p", "ok", 2), "attachments": [{"content_id": pic["id"]}]}
        second = c.post("/v1/messages", json=body).json()
    assert "image_sent_after_request" in second["relationship"]
    assert second["grooming"]["score"] == pytest.approx(first["grooming"]["score"] + 0.1)
    with db.session() as s:
        msg = s.scalar(select(ConversationMessage).where(ConversationMessage.turn == 2))
        assert msg is not None
        (att,) = msg.attachments
        assert att["content_id"] == pic["id"] and att["media_kind"] == "image" and att["verdict"] == "allow"


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("im 13", 13),
        ("i am 14 years old", 14),
        ("tengo 12 años", 12),
        ("ich bin 13", 13),
        ("14 f", 14),
        ("im 5 min away", None),
        ("i'm 20 bucks short", None),
        ("my brother is 10", None),
        ("im 2 times better", None),
    ],
)
def test_self_stated_ages(text: str, age: int | None) -> None:
    from haven.classify.conversation.detector import stated_age

    assert stated_age(normalise(text)) == age


def test_a_stated_age_fills_an_unknown_band_and_an_adult_claiming_to_be_a_child_is_a_signal() -> None:
    det = Detector(0.5, 0.5)
    unknown = ConversationState()
    ctx = MessageContext("adult", ["unknown"], recipient_ids=["kid"])
    det.update(unknown, sender="man", text="how old r u", context=ctx)
    before = det.update(unknown, sender="man", text="are u home alone?", context=ctx).grooming.score
    det.update(unknown, sender="kid", text="im 12", context=MessageContext("unknown", ["adult"], recipient_ids=["man"]))
    after = det.update(unknown, sender="man", text="are u home alone?", context=ctx)
    assert after.grooming.score > before and "adult_minor_asymmetry" in after.relationship
    liar = ConversationState()
    det.update(
        liar, sender="man", text="how old r u", context=MessageContext("adult", ["13_15"], recipient_ids=["kid"])
    )
    r = det.update(
        liar, sender="man", text="im 14 too lol", context=MessageContext("adult", ["13_15"], recipient_ids=["kid"])
    )
    assert "age_claim_mismatch" in r.relationship


def test_reviewers_see_the_conversation_with_highlights_and_the_access_is_audited(
    server: LiveServer, api_key: str, db: Database
) -> None:
    from haven.classify.review import conversation_for_review
    from haven.core.errors import NotFound
    from haven.core.models import AuditRecord

    with server.client(api_key) as c:
        c.put("/v1/accounts/man-r", json={"age_band": "adult"})
        c.put("/v1/accounts/kid-r", json={"age_band": "13_15"})
        for i, t in enumerate(GROOMER, 1):
            c.post("/v1/messages", json=_msg("conv-r", "man-r", "kid-r", t, i))
    with db.session() as s:
        view = conversation_for_review(s, "conv-r", actor="staff:rev-1", purpose="review task 7")
    assert view["grooming"]["warned_turn"] == 3 and view["preserved"]  # the model, see above
    assert {"account_id": "kid-r", "age_band": "13_15"} in view["participants"]
    msgs = view["messages"]
    assert [m["turn"] for m in msgs] == [1, 2, 3, 4, 5, 6] and msgs[0]["highlights"] == []
    assert msgs[2]["warning"] == ["grooming"] and msgs[2]["highlights"][-1]["source"] == "model"
    assert msgs[3]["highlights"][0]["behaviour"] == "risk_assessment"
    assert msgs[4]["highlights"][0]["evidence"].startswith("add me on")
    with db.session() as s:
        (rec,) = s.scalars(select(AuditRecord).where(AuditRecord.action == "conversation.view")).all()
        assert rec.actor == "staff:rev-1" and rec.object_id == "conv-r" and rec.purpose == "review task 7"
        with pytest.raises(NotFound):
            conversation_for_review(s, "nope", actor="staff:rev-1", purpose="x")


def test_one_adult_first_contacting_many_minors_is_fan_out(server: LiveServer, api_key: str) -> None:
    with server.client(api_key) as c:
        c.put("/v1/accounts/fan-a", json={"age_band": "adult"})
        answers = []
        for i in range(6):
            c.put(f"/v1/accounts/fan-k{i}", json={"age_band": "13_15"})
            answers.append(c.post("/v1/messages", json=_msg(f"fan-{i}", "fan-a", f"fan-k{i}", "hey", i)).json())
        # Adults among themselves do not count towards fan-out.
        c.put("/v1/accounts/fan-b", json={"age_band": "adult"})
        to_adult = c.post("/v1/messages", json=_msg("fan-adult", "fan-a", "fan-b", "hey", 9)).json()
    assert ["fan_out" in a["relationship"] for a in answers] == [False] * 4 + [True] * 2
    assert "fan_out" not in to_adult["relationship"]
