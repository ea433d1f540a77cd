"""A bank's robustness level decides which PDQ variants are banked with media Haven hashes itself,
and what a running matcher holds when the level is lowered."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from haven.banks import service
from haven.banks.models import BankEntry
from haven.banks.runtime import MatcherRuntime
from haven.core.db import Database
from haven.core.errors import Invalid
from haven.core.settings import Settings
from haven.signals.image import bank_variants, hash_image
from haven.signals.robust import STANDARD_NAMES
from tests.conftest import LiveServer, make_key
from tests.signals.photos import HARD, STANDARD, banked_bytes, photo


def _bank_photo(db: Database, tmp_path, name: str, robustness: str | None) -> tuple[str, str]:
    path = tmp_path / "coffee.png"
    path.write_bytes(banked_bytes("coffee"))
    entries, variants, errors = service.entries_from_files([path], classification="A1", max_pixels=10**8)
    assert errors == []
    with db.session() as s:
        kw = {} if robustness is None else {"robustness": robustness}
        bank = service.create_bank(s, name=name, kind="known_csam", actor="test", **kw)
        service.add_entries(s, bank, entries, actor="test", variants=variants)
        root = s.scalar(
            select(BankEntry.id).where(
                BankEntry.bank_id == bank.id, BankEntry.signal_type == "pdq", BankEntry.variant_of.is_(None)
            )
        )
        assert root is not None
        return bank.id, root


def _variant_names(db: Database, bank_id: str) -> set[str]:
    with db.session() as s:
        rows = s.scalars(
            select(BankEntry.variant).where(BankEntry.bank_id == bank_id, BankEntry.variant_of.is_not(None))
        )
        return {v for v in rows if v}


def test_each_level_banks_its_variants_and_strong_is_the_default(db: Database, tmp_path) -> None:
    _, all_named = bank_variants(banked_bytes("coffee"))
    names = {n for n, _ in all_named}
    ids = {level: _bank_photo(db, tmp_path, f"bank-{level}", level)[0] for level in ("off", "standard", "strong")}
    default_id, _ = _bank_photo(db, tmp_path, "bank-default", None)
    assert _variant_names(db, ids["off"]) == set()
    assert _variant_names(db, ids["standard"]) == names & STANDARD_NAMES
    assert {"top85", "bottom85", "left95", "corner95_tl", "crop80"} <= _variant_names(db, ids["standard"])
    assert _variant_names(db, ids["strong"]) == names
    assert any(n.startswith("rot") for n in names) and not any(
        n.startswith("rot") for n in _variant_names(db, ids["standard"])
    )
    assert _variant_names(db, default_id) == names


def test_unknown_level_is_refused(db: Database) -> None:
    with db.session() as s, pytest.raises(Invalid) as exc:
        service.create_bank(s, name="x", kind="known_csam", actor="test", robustness="maximum")
    assert exc.value.code == "invalid_robustness"


def test_lowering_the_level_removes_the_variants_from_a_running_matcher(
    db: Database, settings: Settings, tmp_path
) -> None:
    bank_id, root = _bank_photo(db, tmp_path, "levels", "strong")
    rt = MatcherRuntime(db, settings, snapshot_after=None)
    rt.refresh()
    tilted = hash_image(HARD["rotate_+5"](photo("coffee"))).query_variants
    captioned = hash_image(STANDARD["caption_bar_bottom"](photo("coffee"))).query_variants

    def matched(query: list[tuple[str, str]]) -> bool:
        return any(h.entry.bank_id == bank_id for h in rt.matcher.match_pdq(query))

    assert matched(tilted) and matched(captioned)

    with db.session() as s:
        service.update_bank(s, service.get_bank(s, bank_id), {"robustness": "standard"}, actor="test")
    rt.refresh()
    assert not any(n.startswith("rot") for n in _variant_names(db, bank_id))
    assert not matched(tilted)  # only the rotation variants reached the 5-degree tilt
    assert matched(captioned)  # the bands are kept at standard

    with db.session() as s:
        service.update_bank(s, service.get_bank(s, bank_id), {"robustness": "off"}, actor="test")
    rt.refresh()
    assert _variant_names(db, bank_id) == set()
    assert not matched(captioned)
    # The entry itself is untouched: the original still matches an unedited copy.
    plain = hash_image(STANDARD["png"](photo("coffee"))).query_variants
    assert [h.entry.entry_id for h in rt.matcher.match_pdq(plain) if h.entry.bank_id == bank_id] == [root]


def test_the_level_is_set_and_read_over_http(server: LiveServer, db: Database) -> None:
    """Operators choose the level through the API (and `haven bank create --robustness`)."""
    key = make_key(db, ["banks:read", "banks:write"])
    with server.client(key) as c:
        created = c.post("/v1/banks", json={"name": "light", "kind": "known_csam", "robustness": "standard"})
        assert created.status_code == 201, created.text
        assert created.json()["robustness"] == "standard"
        assert c.post("/v1/banks", json={"name": "default", "kind": "ncii"}).json()["robustness"] == "strong"
        bad = c.post("/v1/banks", json={"name": "bad", "kind": "ncii", "robustness": "maximum"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
        patched = c.patch("/v1/banks/light", json={"robustness": "off"})
        assert patched.status_code == 200 and patched.json()["robustness"] == "off"
        assert c.get("/v1/banks/light").json()["robustness"] == "off"
