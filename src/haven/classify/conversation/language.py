"""Cheap language detection for the lexicons: count each language's marker words (frequent,
distinctive words listed in `lexicons/<lang>.yaml`) among the message's words. A message with no
clear winner (too short, only names or emoji) returns None and the conversation's usual language
is used. Costs a set lookup per word."""

from __future__ import annotations

from haven.classify.conversation.lexicon import LEXICONS
from haven.classify.conversation.normalise import base_words


def language_scores(text: str) -> dict[str, int]:
    """Marker words of each language found in the text."""
    words = base_words(text)
    return {lang: sum(1 for w in words if w in lex.markers) for lang, lex in LEXICONS.items()}


def detect_language(text: str) -> str | None:
    """The message's language (a key of LEXICONS), or None when it cannot tell."""
    scores = language_scores(text)
    best = max(scores, key=lambda k: scores[k])
    top = scores[best]
    if top == 0:
        return None
    if sum(1 for v in scores.values() if v == top) > 1:
        return None
    return best
