"""Text normalisation for the rule detectors: case, accents, leetspeak, stretched letters and
spaced-out words, so that "d0nt t3ll ur p4r3nts", "dont tell ur parents" and "D O N T  T E L L"
meet the same patterns.
"""

from __future__ import annotations

import re
import unicodedata

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_SPACED = re.compile(r"\b(?:[a-z][ .\-_*]){2,}[a-z]\b")
_REPEAT = re.compile(r"([a-z])\1{2,}")
_NON_WORD = re.compile(r"[^a-z0-9? ]+")
_APOS = re.compile(r"(?<=[a-z])['’`](?=[a-z])")
_SPACES = re.compile(r"\s+")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def _unleet_word(word: str) -> str:
    # Digits inside a word are leetspeak ("t3ll"); a number alone ("13", "5pm") stays a number.
    core = word.strip(".,;:!?\"'()")
    if any(c.isalpha() for c in core) and not re.fullmatch(r"\d+(am|pm|h|yo|y|th|st|nd|rd|min|mins)?", core):
        return word.translate(_LEET)
    return word


def normalise(text: str) -> str:
    """The form every pattern is written against: lower-case ASCII words separated by one space."""
    t = _fold(text)
    t = " ".join(_unleet_word(w) for w in t.split())
    t = _SPACED.sub(lambda m: re.sub(r"[ .\-_*]", "", m.group(0)), t)
    t = _APOS.sub("", t)  # don't -> dont, what's -> whats, i'll -> ill
    t = _REPEAT.sub(r"\1", t)
    t = _NON_WORD.sub(" ", t)
    return _SPACES.sub(" ", t).strip()


def normalise_keep_doubles(text: str) -> str:
    """Like `normalise` but stretched letters shrink to two ("loooook" -> "look", "sooo" -> "soo")."""
    return normalise(_REPEAT.sub(r"\1\1", _fold(text)))


def squashed(text: str) -> str:
    """Letters and digits only: catches names split to dodge filters ("s.n.a.p", "w h a t s a p p")."""
    return re.sub(r"[^a-z0-9]", "", normalise(text))
