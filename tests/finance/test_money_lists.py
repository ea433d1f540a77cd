"""The rate table is operator data with its date and source; thresholds are in the reference
currency; a currency without a rate and a crypto asset code are refused with a clear 422."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from haven.finance import lists as lists_mod
from haven.finance.lists import lists
from haven.finance.money import MoneyError, check_currency, parse_amount, to_reference_minor
from tests.conftest import LiveServer


def _copy_currencies(tmp_path: Path, **change: object) -> Path:
    from importlib import resources

    doc = yaml.safe_load(resources.files("haven.finance").joinpath("lists/currencies.yaml").read_text())
    doc.update(change)
    (tmp_path / "currencies.yaml").write_text(yaml.safe_dump(doc))
    return tmp_path


def test_shipped_rates_say_when_and_where_from() -> None:
    ls = lists()
    assert ls.reference == "USD" and ls.currencies["USD"].rate == 1
    assert ls.rates_as_of == "2024-06" and "by hand" in ls.rates_source
    assert {"BTC", "ETH", "USDT"} <= ls.crypto_assets and not ls.crypto_assets & ls.iso4217
    # 1,000 JPY in reference cents (rate 0.0067): what the rules' USD thresholds compare with.
    assert to_reference_minor(parse_amount("1000", "JPY", ls), "JPY", ls) == 670


def test_crypto_code_and_rateless_currency_are_refused_with_what_to_do() -> None:
    ls = lists()
    with pytest.raises(MoneyError) as crypto:
        check_currency("BTC", ls)
    assert crypto.value.code == "crypto_currency" and "fiat value" in crypto.value.message
    assert "kind 'crypto'" in crypto.value.message
    with pytest.raises(MoneyError) as rateless:
        check_currency("ZMW", ls)
    assert rateless.value.code == "unsupported_currency" and "no reference rate" in rateless.value.message
    with pytest.raises(MoneyError) as unknown:
        check_currency("XYZ", ls)
    assert unknown.value.code == "unknown_currency"


def test_operator_rate_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = yaml.safe_load((_copy_currencies(tmp_path) / "currencies.yaml").read_text())
    doc["currencies"]["ZMW"] = {"minor": 2, "rate": "0.04"}
    doc["as_of"] = "2026-11-30"
    (tmp_path / "currencies.yaml").write_text(yaml.safe_dump(doc))
    monkeypatch.setenv(lists_mod.ENV, str(tmp_path))
    lists_mod._load.cache_clear()
    try:
        ls = lists()
        assert ls.rates_as_of == "2026-11-30"
        assert to_reference_minor(parse_amount("100.00", "ZMW", ls), "ZMW", ls) == 400
        for bad, message in (
            ({"as_of": None}, "as_of"),
            ({"reference": "EUR"}, "rate 1"),
        ):
            _copy_currencies(tmp_path, **bad)
            lists_mod._load.cache_clear()
            with pytest.raises(ValueError, match=message):
                lists()
    finally:
        lists_mod._load.cache_clear()


def test_crypto_over_http(server: LiveServer, api_key: str) -> None:
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    body = {"external_id": "c1", "kind": "crypto", "payer": "u1", "payee": "u2", "amount": "0.01", "occurred_at": at}
    with server.client(api_key) as c:
        r = c.post("/v1/transactions", json=body | {"currency": "BTC"})
        assert r.status_code == 422, r.text
        err = r.json()["error"]
        assert err["code"] == "crypto_currency" and err["details"]["field"] == "currency"
        assert "fiat value" in err["message"]
        # The fiat value of the same crypto payment is screened (kind crypto is a rail indicator).
        r = c.post("/v1/transactions", json=body | {"currency": "USD", "amount": "950.00"})
        assert r.status_code == 200, r.text
        assert "rail:crypto" in r.json()["indicators"]
