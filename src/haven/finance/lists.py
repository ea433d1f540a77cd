"""The operator's lists: currencies (ISO 4217, minor units, rough rates), countries (ISO 3166-1
and the lists rules name), the memo lexicon and merchant lists. YAML files shipped in
`haven/finance/lists/`; `HAVEN_FINANCE_LISTS_DIR` points at an operator's copy (any file missing
there falls back to the shipped one). Loaded once per directory; pure lookups afterwards."""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

ENV = "HAVEN_FINANCE_LISTS_DIR"


@dataclass(frozen=True)
class Currency:
    code: str
    minor: int
    rate: Decimal  # to the reference currency


@dataclass(frozen=True)
class Lists:
    #: The currency the rules' amounts and the aggregates are in, and the date and source of the
    #: rough rates to it (currencies.yaml).
    reference: str
    currencies: dict[str, Currency]
    iso4217: frozenset[str]
    countries: frozenset[str]
    country_lists: dict[str, frozenset[str]]
    #: category -> compiled pattern of all its phrases (every language)
    memo: dict[str, re.Pattern[str]]
    merchant_mcc: dict[str, frozenset[str]]
    merchant_names: dict[str, re.Pattern[str]]
    rates_as_of: str = ""
    rates_source: str = ""
    crypto_assets: frozenset[str] = frozenset()

    def countries_lists(self, country: str | None) -> tuple[str, ...]:
        if not country:
            return ()
        return tuple(sorted(n for n, codes in self.country_lists.items() if country in codes))

    def memo_categories(self, memo: str | None) -> tuple[str, ...]:
        if not memo:
            return ()
        text = fold(memo)
        return tuple(sorted(c for c, pat in self.memo.items() if pat.search(text)))

    def merchant_lists(self, mcc: str | None, merchant: str | None) -> tuple[str, ...]:
        name = fold(merchant or "")
        out = {n for n, codes in self.merchant_mcc.items() if mcc and mcc in codes}
        out |= {n for n, pat in self.merchant_names.items() if name and pat.search(name)}
        return tuple(sorted(out))


def fold(text: str) -> str:
    """Lower case without accents, apostrophes dropped, runs of space made one."""
    t = unicodedata.normalize("NFKD", text.casefold())
    t = "".join(ch for ch in t if not unicodedata.combining(ch)).replace("'", "").replace("\u2019", "")
    return " ".join(t.split())


def _phrases(words: list[str]) -> re.Pattern[str]:
    alts = sorted({re.escape(fold(str(w))) for w in words if str(w).strip()}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alts) + r")(?!\w)") if alts else re.compile(r"(?!x)x")


def _read(directory: str | None, name: str) -> dict[str, Any]:
    if directory:
        p = Path(directory) / name
        if p.is_file():
            return dict(yaml.safe_load(p.read_text()) or {})
    return dict(yaml.safe_load(resources.files("haven.finance").joinpath(f"lists/{name}").read_text()) or {})


@lru_cache(maxsize=8)
def _load(directory: str | None) -> Lists:
    cur = _read(directory, "currencies.yaml")
    countries = _read(directory, "countries.yaml")
    memo = _read(directory, "memo.yaml")
    merchants = _read(directory, "merchants.yaml")
    codes = frozenset(str(c) for c in countries.get("codes") or [])
    country_lists = {str(n): frozenset(str(c) for c in v or []) for n, v in (countries.get("lists") or {}).items()}
    for n, members in country_lists.items():
        if members - codes:
            raise ValueError(f"country list '{n}' names codes that are not ISO 3166-1: {sorted(members - codes)}")
    iso = frozenset(str(c) for c in cur.get("iso4217") or [])
    currencies = {
        str(c): Currency(str(c), int(v["minor"]), Decimal(str(v["rate"])))
        for c, v in (cur.get("currencies") or {}).items()
    }
    if set(currencies) - iso:
        raise ValueError(f"currencies that are not ISO 4217: {sorted(set(currencies) - iso)}")
    reference = str(cur.get("reference") or "USD")
    if reference not in currencies or currencies[reference].rate != 1:
        raise ValueError(f"currencies.yaml: the reference currency {reference} must be listed with rate 1")
    if not cur.get("as_of") or not cur.get("source"):
        raise ValueError("currencies.yaml: give the rates' date (as_of) and their source (source)")
    bad = [c for c, v in currencies.items() if v.rate <= 0]
    if bad:
        raise ValueError(f"currencies.yaml: rates must be positive: {bad}")
    return Lists(
        reference=reference,
        rates_as_of=str(cur["as_of"]),
        rates_source=" ".join(str(cur["source"]).split()),
        crypto_assets=frozenset(str(c) for c in cur.get("crypto_assets") or []) - iso,
        currencies=currencies,
        iso4217=iso,
        countries=codes,
        country_lists=country_lists,
        memo={
            str(cat): _phrases([w for words in (langs or {}).values() for w in words or []])
            for cat, langs in (memo.get("categories") or {}).items()
        },
        merchant_mcc={
            str(n): frozenset(str(c) for c in (v or {}).get("mcc") or [])
            for n, v in (merchants.get("lists") or {}).items()
        },
        merchant_names={
            str(n): _phrases(list((v or {}).get("names") or [])) for n, v in (merchants.get("lists") or {}).items()
        },
    )


def lists() -> Lists:
    """The lists in force (the operator's directory, else the shipped files)."""
    return _load(os.environ.get(ENV) or None)
