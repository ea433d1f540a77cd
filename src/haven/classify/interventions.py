"""Interventions at the moment of risk: the ready messages of `safety.nudge` and review priority.

The nudge is a ledger event (`safety.nudge`); enforcement delivers it to the service as a
webhook, and the service shows it to the child in the conversation. The texts are short, do not
accuse anyone, tell the child they are not in trouble, and name a concrete next step.
"""

from __future__ import annotations

from typing import Any

from haven.core import i18n


def N_(message: str) -> str:
    """Marks a text for the `nudges` catalogue; translated when the nudge is built."""
    return message


TAKE_IT_DOWN = "https://takeitdown.ncmec.org"

NUDGES: dict[str, dict[str, str]] = {
    "grooming": {
        "title": N_("Something about this chat may not be safe"),
        "body": N_(
            "Someone who asks you to keep secrets, to move to another app, to send pictures, or to meet, "
            "is showing warning signs, even if they are nice to you. You can block and report them here, "
            "and talk to an adult you trust. You are not in trouble."
        ),
    },
    "sextortion": {
        "title": N_("If someone is threatening you, you are not alone"),
        "body": N_(
            "If someone threatens to share pictures of you unless you pay or send more: do not pay and do not "
            "send anything else. You are not in trouble and it is not your fault. Block and report them here, "
            "keep the messages, and tell an adult you trust. Take It Down can help remove pictures: "
            "https://takeitdown.ncmec.org"
        ),
    },
}

ACTIONS = ["block", "report", "talk_to_trusted_adult"]


def nudge_message(family: str, lang: str = i18n.SOURCE_LANGUAGE) -> dict[str, Any]:
    """The ready message for one family of risk, in `lang` (English where it has no catalogue)."""
    msg = {k: i18n.gettext("nudges", lang, v) for k, v in NUDGES[family].items()}
    actions = ACTIONS + (["take_it_down"] if family == "sextortion" else [])
    return {"family": family, **msg, "lang": lang, "actions": actions, "links": {"take_it_down": TAKE_IT_DOWN}}


def conversation_priority(family: str, score: float, relationship: list[str] | dict[str, bool]) -> str:
    """Review priority of a flagged conversation: sextortion is urgent; grooming of a child by an
    adult (asymmetry or fan-out) is high; otherwise medium."""
    rel = set(relationship)
    if family == "sextortion":
        return "VERY_HIGH"
    if rel & {"adult_minor_asymmetry", "fan_out", "after_block"} or score >= 0.9:
        return "HIGH"
    return "MEDIUM"
