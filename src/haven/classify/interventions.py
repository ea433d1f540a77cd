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

#: The research behind each shipped message (an operator's library names its own:
#: haven.classify.nudge_library).
RESEARCH: dict[str, list[dict[str, str]]] = {
    "grooming": [
        {
            "source": "Lorenzo-Dus, Izura & Pérez-Tattam (2016), 'Understanding grooming discourse in "
            "computer-mediated environments', Discourse, Context & Media 12",
            "url": "https://doi.org/10.1016/j.dcm.2016.02.004",
            "supports": "the warning signs named (secrecy, isolation, moving platform, requests, meeting)",
        },
        {
            "source": "Winters, Kaylor & Jeglic (2017), 'Sexual offenders contacting children online', "
            "Journal of Sexual Aggression 23(1)",
            "supports": "offenders are often friendly and flattering first: 'even if they are nice to you'",
        },
    ],
    "sextortion": [
        {
            "source": "NCMEC, sextortion guidance for young people",
            "url": "https://www.missingkids.org/theissues/sextortion",
            "supports": "do not pay or send more, you are not in trouble, keep the messages, block, report",
        },
        {
            "source": "Thorn (2024), 'Trends in Financial Sextortion'",
            "url": "https://www.thorn.org/research/library/financial-sextortion/",
            "supports": "victims fear blame; saying 'it is not your fault' and naming help lowers that barrier",
        },
    ],
}

ACTIONS = ["block", "report", "talk_to_trusted_adult"]


def nudge_message(family: str, lang: str = i18n.SOURCE_LANGUAGE) -> dict[str, Any]:
    """The ready message for one family of risk, in `lang`: from the operator's library when one
    is configured, else the shipped texts; localised by `haven.classify.nudge_library.message`."""
    from haven.classify.nudge_library import message

    m = message(family, lang)
    actions = ACTIONS + (["take_it_down"] if family == "sextortion" else [])
    return {
        "family": family,
        "title": m.title,
        "body": m.body,
        "lang": m.lang,
        "library": m.library,
        "actions": actions,
        "links": {"take_it_down": TAKE_IT_DOWN},
    }


def conversation_priority(family: str, score: float, relationship: list[str] | dict[str, bool]) -> str:
    """Review priority of a flagged conversation: sextortion is urgent; grooming of a child by an
    adult (asymmetry or fan-out) is high; otherwise medium."""
    rel = set(relationship)
    if family == "sextortion":
        return "VERY_HIGH"
    if rel & {"adult_minor_asymmetry", "fan_out", "after_block"} or score >= 0.9:
        return "HIGH"
    return "MEDIUM"
