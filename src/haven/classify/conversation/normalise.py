"""Text normalisation for the rule detectors, so that the lexicons are written once against plain
words and still meet the way children and the people who target them really write.

Steps, in order (each cheap; the whole pass is a few tens of microseconds per message):

1. case and accents folded ("Años" -> "anos"), a few emoji named (a ghost is Snapchat);
2. money written with symbols kept as words ("$50", "50$", "R$ 50" -> "50 dollars" / "50 reais");
3. spaced-out letters joined ("s e n d  m e" -> "send me"; two spaces end a word);
4. digits and symbols inside words read as letters ("h3y", "s3nd", "p!c", "sn@p", "d|ck" -> l);
   a number alone ("13", "5pm", "555 0142") stays a number;
5. apostrophes dropped ("don't" -> "dont", "i'll" -> "ill"); other punctuation becomes space;
6. stretched letters shrunk ("pleeease" -> "please", "loooook" -> "look": two if that is a word
   the lexicons know, else one), and a stray double ("heyy") dropped when that gives a known word;
7. text-speak expanded per language ("u" -> "you", "r" -> "are", "ur" -> "your", "pls" ->
   "please"; Spanish "q" -> "que", Portuguese "vc" -> "voce"); the table is in each language's
   lexicon file (`lexicons/<lang>.yaml`, key `expand`);
8. words written without their vowels restored when exactly one lexicon word has that skeleton
   ("snd" -> "send", "scrt" -> "secret", "prnts" -> "parents"), and two swapped neighbouring
   letters put back when that gives exactly one lexicon word ("secert" -> "secret").

`normalise(text)` uses the English table only (plus the shared one); the detector calls
`normalise_for(text, lang)` with the language it detected.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_LEET = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "9": "g",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "l",
    "+": "t",
    "€": "e",
    "£": "l",
}
_EMOJI = {
    "👻": " snapchat ",
    "📞": " phone ",
    "☎": " phone ",
    "📱": " phone ",
    "📸": " camera ",
    "📷": " camera ",
    "🎥": " video ",
    "📹": " video ",
    "🤫": " shh ",
    "💸": " money ",
    "💰": " money ",
    "💵": " money ",
    "🎁": " gift ",
}
_EMOJI_RE = re.compile("|".join(map(re.escape, _EMOJI)))
_MONEY_BEFORE = re.compile(r"(r\$|us\$|\$|€|£)\s?(\d+(?:[.,]\d+)?)")
_MONEY_AFTER = re.compile(r"(\d+(?:[.,]\d+)?)\s?(\$|€|£)")
_MONEY_WORD = {"$": "dollars", "us$": "dollars", "r$": "reais", "€": "euros", "£": "pounds"}
# Runs of single letters separated by one separator; two or more spaces separate words.
_SPACED = re.compile(r"(?<![a-z0-9])[a-z](?:(?:[.\-_*]| (?! ))[a-z]){2,}(?![a-z0-9])")
_SPACED_SEP = re.compile(r"[ .\-_*]")
_REPEAT3 = re.compile(r"([a-z])\1{2,}")
_DOUBLE = re.compile(r"([a-z])\1")
_APOS = re.compile(r"(?<=[a-z0-9])['’`´](?=[a-z])")
_NON_WORD = re.compile(r"[^a-z0-9? ]+")
_SPACES = re.compile(r"\s+")
_NUMBERISH = re.compile(r"\d+(?:am|pm|h|hr|hrs|yo|y|th|st|nd|rd|min|mins|k|s|x|m|f|gb|mb|p)?")
_LEET_CHARS = frozenset(_LEET)
_ONE_I = re.compile(
    r"(?<![\d.,$])\b1 (?=(?:have|will|got|know|am|can|need|want|post|send|swear|see|saw|found|recorded|saved|kept|"
    r"ll|share|leak|told|said|dont|wont|cant)\b)"
)
_VOWELS = frozenset("aeiouy")
#: A decimal or thousands separator between digits ("0,01 btc", "1.000 reais"): one number.
_DECIMAL = re.compile(r"(?<=\d)[.,](?=\d)")
#: Words that count something: a digit before one is a number, never text-speak for a letter
#: (Portuguese "3" for "e": "tens 3 dias", "seus 3 mil seguidores").
_COUNTED = frozenset(
    [
        "mil",
        "mill",
        "million",
        "millones",
        "milhoes",
        "k",
        "dias",
        "dia",
        "days",
        "day",
        "horas",
        "hora",
        "hours",
        "hour",
        "hrs",
        "h",
        "minutos",
        "min",
        "mins",
        "minutes",
        "semanas",
        "semana",
        "weeks",
        "week",
        "meses",
        "mes",
        "months",
        "month",
        "anos",
        "ano",
        "years",
        "year",
        "seguidores",
        "followers",
        "amigos",
        "friends",
        "contactos",
        "contatos",
        "contacts",
        "fotos",
        "foto",
        "photos",
        "pics",
        "videos",
        "euros",
        "reais",
        "dolares",
        "dollars",
        "pesos",
        "pounds",
        "libras",
        "btc",
        "bitcoin",
        "cartoes",
        "tarjetas",
        "cards",
        "vezes",
        "veces",
        "times",
    ]
)


def _fold(text: str) -> str:
    text = _EMOJI_RE.sub(lambda m: _EMOJI[m.group(0)], text)
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def _money(text: str) -> str:
    text = _MONEY_BEFORE.sub(lambda m: f" {m.group(2)} {_MONEY_WORD[m.group(1)]} ", text)
    return _MONEY_AFTER.sub(lambda m: f" {m.group(1)} {_MONEY_WORD[m.group(2)]} ", text)


def _unleet_word(word: str) -> str:
    # Digits and symbols inside a word are letters ("t3ll", "p!c"); a number ("13", "5pm") stays.
    core = word.strip(".,;:!?\"'()[]")
    if not core or not any(c.isalpha() for c in core) or _NUMBERISH.fullmatch(core):
        return word
    if not any(c in _LEET_CHARS for c in core) or core in _Vocab.digit_words:
        return word
    lead = word[: len(word) - len(word.lstrip(".,;:!?\"'()[]"))]
    tail = word[len(lead) + len(core) :]
    return lead + "".join(_LEET.get(c, c) for c in core) + tail


_SHORT = frozenset({"a", "i", "me", "my", "u", "ur", "to", "on", "in", "of", "is", "it", "or", "no", "so", "do", "we"})


def _segment(joined: str) -> str:
    """Split letters that were spaced out as one run ("sendme" -> "send me") using known words."""
    words = _Vocab.words | _SHORT
    n = len(joined)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(1, n + 1):
        for j in range(max(0, i - 16), i):
            prev = best[j]
            if prev is not None and joined[j:i] in words and (best[i] is None or len(prev) + 1 < len(best[i] or [])):
                best[i] = [*prev, joined[j:i]]
    out = best[n]
    if not out or any(len(w) == 1 and w not in ("a", "i", "u") for w in out):
        return joined
    return " ".join(out)


def _spaced(m: re.Match[str]) -> str:
    joined = _SPACED_SEP.sub("", m.group(0))
    if joined in _Vocab.words:
        return joined
    if len(joined) < 4:  # "u r a" is three text-speak words, not a word spelt out
        return m.group(0)
    return _segment(joined)


def _join_spaced(t: str) -> str:
    return _SPACED.sub(_spaced, t)


@lru_cache(maxsize=4096)  # one message is normalised per language, squashed and language-detected
def _base(text: str) -> str:
    """Steps 1 to 5: lower-case ASCII words and numbers separated by one space."""
    t = _money(_fold(text))
    t = _join_spaced(t)
    t = _DECIMAL.sub("", t)
    # Each part of a hyphenated token on its own: "bc1-falsa-777" keeps its number.
    t = " ".join("-".join(_unleet_word(p) for p in w.split("-")) for w in t.split())
    t = _APOS.sub("", t)
    t = _ONE_I.sub("i ", t)  # "1 have ur contacts", "or 1 post it": the digit one written for "I"
    t = _NON_WORD.sub(" ", t).replace("?", " ? ")
    return _SPACES.sub(" ", t).strip()


def skeleton(word: str) -> str:
    """First letter, then the consonants with doubles collapsed: "secret" -> "scrt"."""
    if not word:
        return word
    rest = "".join(c for c in word[1:] if c not in "aeiou")
    return _DOUBLE.sub(r"\1", word[0] + rest)


class _Vocab:
    """The words the lexicons know (filled by `lexicon` at import), used to undo stretching and
    restore dropped vowels."""

    words: frozenset[str] = frozenset()
    by_lang: dict[str, frozenset[str]] = {}
    skeletons: dict[str, dict[str, str]] = {}
    expand: dict[str, dict[str, str]] = {}
    digit_words: frozenset[str] = frozenset()  # text-speak with digits in it ("b4", "gr8"): not leet


def set_vocabulary(words: dict[str, set[str]], expand: dict[str, dict[str, str]]) -> None:
    """Called once by the lexicon loader: each language's known words and text-speak table."""
    skeletons: dict[str, dict[str, str]] = {}
    for lang, ws in words.items():
        skel: dict[str, str | None] = {}
        for w in sorted(ws, key=len):
            if len(w) < 4:
                continue
            k = skeleton(w)
            if len(k) < 3:
                continue
            prev = skel.get(k, "")
            if k not in skel:
                skel[k] = w
            elif prev is not None and len(prev) == len(w) and prev != w:
                skel[k] = None  # two words of the same length: ambiguous, leave the token alone
        skeletons[lang] = {k: v for k, v in skel.items() if v is not None}
    _Vocab.words = frozenset().union(*words.values()) if words else frozenset()
    _Vocab.by_lang = {lang: frozenset(ws) for lang, ws in words.items()}
    _Vocab.skeletons = skeletons
    _Vocab.expand = expand
    _Vocab.digit_words = frozenset(k for table in expand.values() for k in table if any(c.isdigit() for c in k))
    _word.cache_clear()
    _base.cache_clear()


@lru_cache(maxsize=65536)
def _word(tok: str, lang: str) -> str:
    words = _Vocab.words
    table = _Vocab.expand.get(lang) or {}
    common = _Vocab.expand.get("*") or {}
    if _REPEAT3.search(tok):
        two = _REPEAT3.sub(r"\1\1", tok)
        one = _REPEAT3.sub(r"\1", tok)
        tok = two if two in words or two in table else one
    hit = table.get(tok) or common.get(tok)
    if hit is not None:
        return hit
    if tok in words or tok.isdigit():
        return tok
    if _DOUBLE.search(tok):
        single = _DOUBLE.sub(r"\1", tok)
        if single in words:
            return single
        hit = table.get(single) or common.get(single)
        if hit is not None:
            return hit
    if len(tok) >= 3 and tok.isalpha() and not (set(tok[1:]) & _VOWELS):
        restored = (_Vocab.skeletons.get(lang) or {}).get(skeleton(tok))
        if restored is not None:
            return restored
    if len(tok) >= 5 and tok.isalpha():
        # Two neighbouring letters swapped ("secert", "parnets"): the one known word it gives.
        known = _Vocab.by_lang.get(lang) or frozenset()
        fixes = {w for i in range(len(tok) - 1) if (w := tok[:i] + tok[i + 1] + tok[i] + tok[i + 2 :]) in known}
        if len(fixes) == 1:
            return fixes.pop()
    return tok


def normalise_for(text: str, lang: str = "en") -> str:
    """The form every pattern is written against, with `lang`'s text-speak table."""
    toks = _base(text).split()
    out: list[str] = []
    for i, w in enumerate(toks):
        if w.isdigit() and i + 1 < len(toks) and (toks[i + 1] in _COUNTED or toks[i + 1].isdigit()):
            out.append(w)  # "3 dias", "3 mil": a number, not a letter
        else:
            out.append(_word(w, lang))
    return " ".join(out)


def normalise(text: str) -> str:
    """The form every pattern is written against: lower-case ASCII words separated by one space
    (English text-speak table)."""
    return normalise_for(text, "en")


def base_words(text: str) -> list[str]:
    """Words after steps 1-5 only (no expansion): what language detection looks at."""
    return _base(text).split()


def normalise_keep_doubles(text: str) -> str:
    """Kept for callers of the old API: stretched letters are now resolved inside `normalise`."""
    return normalise(text)


def squashed(text: str) -> str:
    """Letters and digits only: catches names split to dodge filters ("s.n.a.p", "w h a t s a p p")."""
    return re.sub(r"[^a-z0-9]", "", _base(text))
