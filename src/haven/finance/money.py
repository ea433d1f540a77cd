"""Amounts, currencies and countries of a payment, checked: decimals never floats, ISO 4217
currencies with their minor units, ISO 3166-1 countries. Pure (the lists are data)."""

from __future__ import annotations

import re
from decimal import Decimal

from haven.finance.lists import Lists

_AMOUNT = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,30})?$")


class MoneyError(ValueError):
    """A payment field that cannot be accepted: a stable code and a message for the caller."""

    def __init__(self, code: str, message: str, field: str) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


def parse_amount(raw: str, currency: str, lists: Lists) -> Decimal:
    """The amount as a Decimal, with no more places than the currency's minor units."""
    cur = check_currency(currency, lists)
    value = raw.strip() if isinstance(raw, str) else raw
    if not isinstance(value, str) or not value:
        raise MoneyError("invalid_amount", 'amount is a decimal string such as "12.50"', "amount")
    if value.startswith("-"):
        raise MoneyError("invalid_amount", "amount must be positive (a refund is a transaction of its own)", "amount")
    if not _AMOUNT.match(value):
        raise MoneyError(
            "invalid_amount", 'amount is a decimal string of digits and one point, such as "12.50"', "amount"
        )
    amount = Decimal(value)
    places = len(value.split(".", 1)[1]) if "." in value else 0
    if places > cur.minor:
        raise MoneyError(
            "invalid_amount",
            f"{currency} amounts have at most {cur.minor} decimal place{'s' if cur.minor != 1 else ''}",
            "amount",
        )
    if amount <= 0:
        raise MoneyError("invalid_amount", "amount must be greater than zero", "amount")
    return amount


def check_currency(code: str, lists: Lists):  # type: ignore[no-untyped-def]
    if code in lists.crypto_assets:
        raise MoneyError(
            "crypto_currency",
            f"{code} is a crypto asset, not a currency: send the payment's fiat value (amount and an ISO 4217 "
            f"currency, e.g. {lists.reference}) with kind 'crypto'",
            "currency",
        )
    if code not in lists.iso4217:
        raise MoneyError("unknown_currency", f"'{code}' is not an ISO 4217 currency code", "currency")
    cur = lists.currencies.get(code)
    if cur is None:
        raise MoneyError(
            "unsupported_currency",
            f"{code} has no reference rate in this installation, so its amounts cannot be compared with the rules' "
            f"thresholds (in {lists.reference}); an operator adds it with a rate to currencies.yaml",
            "currency",
        )
    return cur


def check_country(code: str | None, field: str, lists: Lists) -> str | None:
    if code is None:
        return None
    if code not in lists.countries:
        raise MoneyError("unknown_country", f"{field} '{code}' is not an ISO 3166-1 alpha-2 country code", field)
    return code


def to_reference_minor(amount: Decimal, currency: str, lists: Lists) -> int:
    """The amount in minor units (cents) of the reference currency, rounded half-even: the
    integer that aggregates add (exact sums, any backend)."""
    rate = lists.currencies[currency].rate
    return int((amount * rate * 100).quantize(Decimal(1)))
