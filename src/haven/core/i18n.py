"""Translations: gettext catalogues (Babel) for everything Haven says to users.

Texts that reach people outside the trust-and-safety team (nudges to a child, statements of
reasons, notices, the public safety centre, the console's user-facing strings) are written in
English in the code and templates, marked with `_()` (or `{% trans %}` / `_()` in Jinja), and
translated in catalogues: `src/haven/locale/<lang>/LC_MESSAGES/<domain>.po`. One domain per area
(`DOMAINS` below: its name and the sources its messages are extracted from), so two capabilities
never edit the same file.

The `.po` files are the source of truth and are read at run time (Babel parses them and the
result is cached); there is no compile step to forget in `make install`. An English string with
no translation falls back to English, never to a blank; `missing()` lists every such gap and
`tests/core/test_i18n.py` fails on one, so a shipped language is complete or the build is red.

Adding a language: `python -m haven.core.i18n init <lang>` writes a catalogue per domain from the
English sources (msgstr empty); translate, run `python -m haven.core.i18n check`, and add the code
to `SHIPPED`. Adding text: mark it, then `python -m haven.core.i18n update` merges the new
msgids into every catalogue (existing translations kept) and `check` says what to translate.
"""

from __future__ import annotations

import gettext as _gettext
import io
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

HAVEN = Path(__file__).resolve().parent.parent
LOCALE_DIR = HAVEN / "locale"
SOURCE_LANGUAGE = "en"
#: Languages whose catalogues are complete (a test keeps them so), in the order offered.
SHIPPED: tuple[str, ...] = ("en", "es")


@dataclass(frozen=True)
class Domain:
    """A catalogue: its name and the sources its messages are extracted from (globs under
    `src/haven/`, `.py` files read as Python, anything else as Jinja)."""

    name: str
    sources: tuple[str, ...]


#: Every catalogue. A capability that says something to users adds its domain here.
DOMAINS: dict[str, Domain] = {
    d.name: d
    for d in (
        Domain("nudges", ("classify/interventions.py",)),
        Domain("safety", ("safety/templates/*.html", "safety/labels.py")),
        Domain("statements", ("enforce/statements.py", "enforce/templates/notices/*.j2")),
    )
}

_JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trimmed": "true"}
#: Marks in Python: `_()` / `N_()` around an English literal, or this module's
#: `gettext(domain, lang, "...")` / `ngettext(domain, lang, "...", "...", n)`.
_PY_KEYWORDS: dict[str, Any] = {"_": None, "N_": None, "gettext": (3,), "ngettext": (3, 4)}
_JINJA_KEYWORDS: dict[str, Any] = {"_": None, "gettext": None, "ngettext": (1, 2)}


def _po_path(lang: str, domain: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"


@lru_cache(maxsize=128)
def _catalog(lang: str, domain: str) -> Catalog | None:
    path = _po_path(lang, domain)
    if not path.is_file():
        return None
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=domain)


@lru_cache(maxsize=128)
def translations(domain: str, lang: str) -> _gettext.NullTranslations:
    """The `gettext` translations of one domain in one language (English falls through: the
    msgids are English). Usable by Jinja's `install_gettext_translations`."""
    if domain not in DOMAINS:
        raise KeyError(f"unknown translation domain {domain!r}")
    catalog = _catalog(lang, domain) if lang != SOURCE_LANGUAGE else None
    if catalog is None:
        return _gettext.NullTranslations()
    buf = io.BytesIO()
    # Fuzzy entries are guesses by `update`; they must not reach a child as if they were checked.
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def gettext(domain: str, lang: str, message: str) -> str:
    """`message` (English) in `lang`, or English where the catalogue has no translation."""
    return translations(domain, lang).gettext(message)


def ngettext(domain: str, lang: str, singular: str, plural: str, n: int) -> str:
    return translations(domain, lang).ngettext(singular, plural, n)


def available(domain: str | None = None) -> tuple[str, ...]:
    """Languages with a catalogue (for `domain`, or for every domain), English first."""
    langs = {SOURCE_LANGUAGE}
    if LOCALE_DIR.is_dir():
        for d in LOCALE_DIR.iterdir():
            names = [domain] if domain else list(DOMAINS)
            if d.is_dir() and all(_po_path(d.name, n).is_file() for n in names):
                langs.add(d.name)
    return tuple(sorted(langs, key=lambda lang: (lang != SOURCE_LANGUAGE, lang)))


def negotiate(wanted: str | Iterable[str] | None, domain: str | None = None) -> str:
    """The best available language for an `Accept-Language` header, a `lang` parameter or a list
    of preferences (`es-MX` → `es`); English when nothing matches or the input is junk."""
    have = available(domain)
    if not wanted:
        return SOURCE_LANGUAGE
    prefs: list[str] = []
    if isinstance(wanted, str):
        weighted = []
        for i, part in enumerate(wanted.split(",")):
            tag, _, q = part.strip().partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                weight = 0.0
            if tag and tag != "*" and weight > 0:
                weighted.append((-weight, i, tag.strip()))
        prefs = [tag for _, _, tag in sorted(weighted)]
    else:
        prefs = [p for p in wanted if p]
    for tag in prefs:
        try:
            parsed = Locale.parse(tag.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            continue
        for candidate in (str(parsed), parsed.language):
            if candidate in have:
                return candidate
    return SOURCE_LANGUAGE


def language_name(lang: str) -> str:
    """The language's own name for itself (`es` → `español`), for a language picker."""
    try:
        return Locale.parse(lang).get_display_name(lang) or lang
    except (ValueError, UnknownLocaleError):
        return lang


# --- extraction and checks ------------------------------------------------------------------


def _sources(domain: Domain) -> Iterator[Path]:
    for pattern in domain.sources:
        yield from sorted(HAVEN.glob(pattern))


def extract(domain: str) -> Catalog:
    """The English catalogue of a domain, extracted from its sources (`_()`, `gettext`,
    `ngettext` in Python; `{% trans %}` and `_()` in Jinja)."""
    d = DOMAINS[domain]
    catalog = Catalog(locale=SOURCE_LANGUAGE, domain=domain, project="Haven")
    for path in _sources(d):
        method = "python" if path.suffix == ".py" else "jinja2"
        options = _JINJA_OPTIONS if method == "jinja2" else {}
        keywords = _JINJA_KEYWORDS if method == "jinja2" else _PY_KEYWORDS
        for lineno, message, comments, context in extract_from_file(
            method,
            str(path),
            keywords=keywords,
            options=options,
        ):
            rel = str(path.relative_to(HAVEN))
            catalog.add(message, None, [(rel, lineno)], auto_comments=comments, context=context)
    return catalog


def missing(domain: str, lang: str) -> list[str]:
    """English msgids of `domain` with no (non-fuzzy) translation in `lang`."""
    if lang == SOURCE_LANGUAGE:
        return []
    have = _catalog(lang, domain)
    gaps = []
    for message in extract(domain):
        if not message.id:
            continue
        ours = have.get(message.id, context=message.context) if have is not None else None
        strings = ours.string if ours is not None else None
        done = (
            ours is not None
            and not ours.fuzzy
            and (all(strings) if isinstance(strings, (list, tuple)) else bool(strings))
        )
        if not done:
            gaps.append(message.id if isinstance(message.id, str) else message.id[0])
    return gaps


def update(lang: str) -> None:
    """Merge newly extracted msgids into `lang`'s catalogues (keeping translations), writing
    a catalogue for any domain that has none."""
    for name in DOMAINS:
        template = extract(name)
        path = _po_path(lang, name)
        if path.is_file():
            with path.open("rb") as f:
                catalog = read_po(f, locale=lang, domain=name)
            catalog.update(template, no_fuzzy_matching=True)
        else:
            catalog = Catalog(locale=lang, domain=name, project="Haven")
            catalog.update(template, no_fuzzy_matching=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, catalog, width=100, omit_header=False, sort_output=True)
    _catalog.cache_clear()
    translations.cache_clear()


def main(argv: list[str]) -> int:
    """`python -m haven.core.i18n check | update | init LANG`."""
    if not argv or argv[0] not in {"check", "update", "init"}:
        print("usage: python -m haven.core.i18n check | update | init LANG", file=sys.stderr)
        return 2
    if argv[0] == "init":
        if len(argv) != 2:
            print("error: init needs a language code, e.g. pt", file=sys.stderr)
            return 2
        update(argv[1])
        return 0
    if argv[0] == "update":
        for lang in available():
            if lang != SOURCE_LANGUAGE:
                update(lang)
        return 0
    gaps = 0
    for lang in SHIPPED:
        for name in DOMAINS:
            for msgid in missing(name, lang):
                gaps += 1
                print(f"{lang}/{name}: untranslated: {msgid[:80]!r}")
    print(f"{gaps} untranslated message(s) in {', '.join(SHIPPED)}")
    return 1 if gaps else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
