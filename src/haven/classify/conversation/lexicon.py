"""Behaviour patterns for grooming and sextortion, loaded from data files in `lexicons/`.

- `lexicons/behaviours.yaml`: each behaviour's family, weight, strength and description (the same
  in every language);
- `lexicons/common.yaml`: classes shared by every language (app names, payment apps, gift-card
  brands, crypto, phone numbers) and squashed-text keys;
- `lexicons/<lang>.yaml`: one file per language (en, es, pt, fr, de): marker words for language
  detection, the text-speak table used by normalisation, classes, patterns per behaviour and
  benign contexts (`unless`) that cancel a behaviour in the same message.

Patterns are written at the level of intent ("a verb of spreading, up to six words, then an
audience" rather than a list of sentences) against `normalise()`d text. Sources for the
behaviours: O'Connell's stages, Olson et al.'s luring communication theory, the eSPD/PAN12
literature and NCMEC's financial sextortion indicators. Non-graphic by design. Operators extend
them in code review (a new language is one new file; see docs/classifiers.md), never at run time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from haven.classify.conversation.normalise import set_vocabulary

_CLASS = re.compile(r"\{([a-z][a-z0-9_]*)\}")  # a name starts with a letter: {3} is a quantifier
_GAP = re.compile(r"\{w(\d)\}")


@dataclass(frozen=True)
class Behaviour:
    name: str
    family: str  # grooming or sextortion
    weight: float
    description: str
    strength: str = "medium"  # weak, medium or strong
    squashed: tuple[str, ...] = ()  # substrings of the squashed text (letters only)


@dataclass
class Lexicon:
    """One language's compiled patterns."""

    language: str
    name: str
    markers: frozenset[str]
    expand: dict[str, str]
    patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)
    unless: dict[str, re.Pattern[str]] = field(default_factory=dict)
    #: Conversation contexts that are not behaviours (e.g. `parent_aware`: the adult says a parent
    #: knows, asked or is present), each a compiled pattern.
    contexts: dict[str, re.Pattern[str]] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)


def _load_yaml(name: str) -> dict[str, Any]:
    text = resources.files("haven.classify.conversation").joinpath("lexicons", name).read_text("utf-8")
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError(f"lexicon {name} is not a mapping")
    return data


def _flat(value: str) -> str:
    # Folded YAML (">-") joins lines with a space: no alternative starts or ends with one.
    return re.sub(r"\|\s+", "|", re.sub(r"\s*\n\s*", "", value.strip()))


def _resolve(src: str, classes: dict[str, str], depth: int = 0) -> str:
    if depth > 5:
        raise ValueError(f"lexicon classes nest too deep: {src}")

    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in classes:
            raise ValueError(f"unknown lexicon class {{{name}}}")
        return "(?:" + _resolve(classes[name], classes, depth + 1) + ")"

    src = _GAP.sub(lambda m: r"(?: [a-z0-9?]+){0," + m.group(1) + "}", src)
    return _CLASS.sub(one, src)


def _compile(alternatives: list[str], classes: dict[str, str]) -> re.Pattern[str]:
    body = "|".join("(?:" + _resolve(_flat(a), classes) + ")" for a in alternatives)
    # A `{name}` left in the regex would be matched as literal braces, i.e. never: until round 3,
    # `{spread_1sg}` (a digit in the name) silently disabled two Spanish and two Portuguese threats.
    left = re.search(r"\{[A-Za-z_][^}]*\}", body)
    if left:
        raise ValueError(f"lexicon class {left.group(0)} is not resolved (names: a-z, 0-9, _)")
    return re.compile(r"(?<![a-z0-9])(?:" + body + r")(?![a-z0-9])")


def _words_of(src: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{3,}", src) if not w.startswith("w") or len(w) > 3}


LANGUAGES = ("en", "es", "pt", "fr", "de")
#: Languages with full lexicons: a message whose language cannot be told, in a conversation whose
#: language is not known yet, is read with all of them.
FULL_LANGUAGES = ("en", "es", "pt")
#: Conversation contexts the lexicons may define (see `Lexicon.contexts`).
CONTEXTS = ("parent_aware", "occasion")


def _build() -> tuple[dict[str, Behaviour], dict[str, Lexicon]]:
    meta = _load_yaml("behaviours.yaml")
    common = _load_yaml("common.yaml")
    common_classes = {k: _flat(v) for k, v in (common.get("classes") or {}).items()}
    squashed = common.get("squashed") or {}
    behaviours = {
        name: Behaviour(
            name,
            str(m["family"]),
            float(m["weight"]),
            str(m["description"]),
            str(m.get("strength", "medium")),
            tuple(squashed.get(name, ())),
        )
        for name, m in meta.items()
    }
    lexicons: dict[str, Lexicon] = {}
    vocab: dict[str, set[str]] = {}
    expand: dict[str, dict[str, str]] = {"*": {str(k): str(v) for k, v in (common.get("expand") or {}).items()}}
    for lang in LANGUAGES:
        d = _load_yaml(f"{lang}.yaml")
        own = {k: _flat(v) for k, v in (d.get("classes") or {}).items()}
        # A language may extend a shared class by naming it in its own: app: '{app}|el azulito'.
        own = {
            k: v.replace("{" + k + "}", "(?:" + common_classes[k] + ")") if k in common_classes else v
            for k, v in own.items()
        }
        classes = common_classes | own
        lex = Lexicon(
            language=lang,
            name=str(d.get("name", lang)),
            markers=frozenset(str(w) for w in d.get("markers") or ()),
            expand={str(k): str(v) for k, v in (d.get("expand") or {}).items()},
        )
        words = vocab.setdefault(lang, set())
        for name, alts in (d.get("patterns") or {}).items():
            if name not in behaviours:
                raise ValueError(f"{lang}.yaml: unknown behaviour {name}")
            lex.patterns[name] = _compile([str(a) for a in alts], classes)
            lex.sources[name] = [_resolve(_flat(str(a)), classes) for a in alts]
            words |= set().union(*(_words_of(s) for s in lex.sources[name]))
        for name, alts in (d.get("unless") or {}).items():
            lex.unless[name] = _compile([str(a) for a in alts], classes)
        for name, alts in (d.get("contexts") or {}).items():
            if name not in CONTEXTS:
                raise ValueError(f"{lang}.yaml: unknown context {name}")
            lex.contexts[name] = _compile([str(a) for a in alts], classes)
        words |= {w for w in lex.markers if w.isalpha()}
        for v in lex.expand.values():
            words |= set(v.split())
        expand[lang] = lex.expand
        lexicons[lang] = lex
    set_vocabulary(vocab, expand)
    return behaviours, lexicons


BY_NAME, LEXICONS = _build()
BEHAVIOURS: tuple[Behaviour, ...] = tuple(BY_NAME.values())
GROOMING = tuple(b for b in BEHAVIOURS if b.family == "grooming")
SEXTORTION = tuple(b for b in BEHAVIOURS if b.family == "sextortion")


def fire(
    normalised: str,
    squashed_text: str,
    doubles: str | None = None,
    languages: tuple[str, ...] = LANGUAGES,
) -> list[tuple[str, str]]:
    """(behaviour, matched text) for every behaviour whose patterns match this message in any of
    `languages` (all of them by default; the detector passes the ones it detected).

    `doubles` is an alternative normalised form of the same message, tried second.
    """
    out: list[tuple[str, str]] = []
    forms = [normalised] if not doubles or doubles == normalised else [normalised, doubles]
    for b in BEHAVIOURS:
        found: str | None = None
        for lang in languages:
            lex = LEXICONS[lang]
            pat = lex.patterns.get(b.name)
            if pat is None:
                continue
            un = lex.unless.get(b.name)
            for form in forms:
                if un is not None and un.search(form):
                    continue
                m = pat.search(form)
                if m:
                    found = m.group(0).strip()
                    break
            if found:
                break
        if found is None:
            found = next((key for key in b.squashed if key in squashed_text), None)
        if found:
            out.append((b.name, found))
    return out


def contexts_of(forms: dict[str, str]) -> list[str]:
    """The conversation contexts (`CONTEXTS`) found in this message, read in each language."""
    out = []
    for name in CONTEXTS:
        for lang, form in forms.items():
            pat = LEXICONS[lang].contexts.get(name)
            if pat is not None and pat.search(form):
                out.append(name)
                break
    return out


def fire_forms(forms: dict[str, str], squashed_text: str) -> list[tuple[str, str]]:
    """Like `fire`, each language's patterns run on the text normalised with that language's
    text-speak table (`forms`: language -> normalised text, in the order to try)."""
    out: list[tuple[str, str]] = []
    for b in BEHAVIOURS:
        found: str | None = None
        for lang, form in forms.items():
            lex = LEXICONS[lang]
            pat = lex.patterns.get(b.name)
            if pat is None:
                continue
            un = lex.unless.get(b.name)
            if un is not None and un.search(form):
                continue
            m = pat.search(form)
            if m:
                found = m.group(0).strip()
                break
        if found is None:
            found = next((key for key in b.squashed if key in squashed_text), None)
        if found:
            out.append((b.name, found))
    return out
