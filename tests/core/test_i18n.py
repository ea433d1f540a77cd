"""Every shipped language is complete, catalogues parse, negotiation picks sane languages."""

from __future__ import annotations

import pytest

from haven.classify.interventions import nudge_message
from haven.core import i18n


@pytest.mark.parametrize("lang", [lang for lang in i18n.SHIPPED if lang != i18n.SOURCE_LANGUAGE])
@pytest.mark.parametrize("domain", sorted(i18n.DOMAINS))
def test_every_message_is_translated_in_every_shipped_language(domain: str, lang: str) -> None:
    english = [m.id for m in i18n.extract(domain) if m.id]
    assert english, f"domain {domain} extracts nothing: its sources moved or lost their marks"
    assert i18n.missing(domain, lang) == []


def test_every_domain_has_a_catalogue_per_shipped_language() -> None:
    for lang in i18n.SHIPPED:
        if lang == i18n.SOURCE_LANGUAGE:
            continue
        for domain in i18n.DOMAINS:
            assert i18n._po_path(lang, domain).is_file(), f"{lang}/{domain}.po missing"


def test_a_translation_is_used_and_english_is_the_fallback() -> None:
    en = nudge_message("sextortion", "en")
    es = nudge_message("sextortion", "es")
    assert es["title"] != en["title"] and es["body"] != en["body"]
    assert es["lang"] == "es"
    assert "takeitdown.ncmec.org" in es["body"]
    # An unknown language falls back to English text, never to an empty string.
    assert nudge_message("grooming", "xx")["title"] == nudge_message("grooming")["title"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        ("fr-FR,fr;q=0.9", "en"),
        ("de;q=0.5, es;q=0.7", "es"),
        ("en;q=0.1, es;q=0", "en"),
        ("*", "en"),
        ("\x00garbage;;q=abc", "en"),
        (None, "en"),
    ],
)
def test_negotiation(header: str | None, expected: str) -> None:
    assert i18n.negotiate(header) == expected


def test_check_command_reports_gaps(tmp_path, monkeypatch, capsys) -> None:
    # A language whose catalogue is empty: `check` must list each message and fail.
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n._catalog.cache_clear()
    i18n.translations.cache_clear()
    monkeypatch.setattr(i18n, "SHIPPED", ("en", "pt"))
    i18n.update("pt")
    try:
        assert i18n.main(["check"]) == 1
        out = capsys.readouterr().out
        assert "pt/nudges: untranslated" in out
    finally:
        i18n._catalog.cache_clear()
        i18n.translations.cache_clear()
