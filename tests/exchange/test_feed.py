"""Two Havens: one publishes its confirmed hashes as a signed feed (real server on loopback),
the other subscribes with the pinned key; tampered and expired entries are refused."""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from haven.banks.formats import EntryIn
from haven.banks.models import BankEntry
from haven.banks.service import add_entries, create_bank
from haven.core.auth import create_integration
from haven.core.db import Database
from haven.core.settings import Settings
from haven.exchange.base import ExchangeError
from haven.exchange.feed import parse_page
from haven.exchange.publish import add_partner, feed_page, get_partner, public_key, set_sharing
from haven.exchange.service import create_exchange, fetch, get_exchange
from tests.conftest import LiveServer


@pytest.fixture
def subscriber(sqlite_template: Path, tmp_path: Path) -> Database:
    path = tmp_path / "subscriber.db"
    shutil.copy(sqlite_template, path)
    return Database(f"sqlite:///{path}")


def test_publish_subscribe_verify(server: LiveServer, db: Database, subscriber: Database, settings: Settings) -> None:
    pinned = public_key(settings)
    values = [secrets.token_hex(32) for _ in range(3)]
    with db.session() as s:
        bank = create_bank(s, name="confirmed", kind="local_confirmed", actor="test", default_classification="A1")
        add_entries(s, bank, [EntryIn("pdq", v) for v in values], actor="test")
        integ, key = create_integration(s, "partner-haven", ["exchanges:feed"])
        partner = add_partner(s, name="partner-haven", banks=["confirmed"], integration_id=integ.id, actor="test")
        with pytest.raises(Exception, match="staff"):
            set_sharing(s, partner, True, actor="cli", reason="x")
    with server.client(key) as c:
        assert c.get("/v1/exchanges/feed").json()["error"]["code"] == "sharing_disabled"
    with db.session() as s:
        partner = get_partner(s, "partner-haven")
        set_sharing(s, partner, True, actor="staff:01TESTSTAFF", reason="regional federation agreement")
    with subscriber.session() as s:
        create_bank(s, name="from-partner", kind="known_csam", actor="test")
        create_exchange(
            s,
            name="partner",
            kind="haven_feed",
            base_url=server.url,
            credentials={"api_key": key},
            lists={"*": "from-partner"},
            actor="test",
            config={"public_key": pinned, "page_size": 2},
        )
    summary = fetch(subscriber, "partner")
    assert summary["added"] == 3 and summary["pages"] == 2
    with subscriber.session() as s:
        got = set(s.scalars(select(BankEntry.value).where(BankEntry.enabled.is_(True))))
    assert got == set(values)

    # A tampered entry (value changed after signing) refuses the whole page.
    with db.session() as s:
        page = feed_page(s, get_partner(s, "partner-haven"), after="", limit=10, settings=settings)
    lines = page.splitlines()
    entry = json.loads(lines[1])
    entry["value"] = secrets.token_hex(32)
    tampered = "\n".join([lines[0], json.dumps(entry), *lines[2:]]).encode()
    from datetime import UTC, datetime, timedelta

    with pytest.raises(ExchangeError) as err:
        parse_page(tampered, pinned, now=datetime.now(UTC))
    assert err.value.code == "signature_invalid"
    # Another key than the pinned one is refused.
    other = "MCowBQYDK2VwAyEA"  # not a key: invalid config
    with pytest.raises(ExchangeError):
        parse_page(page.encode(), other, now=datetime.now(UTC))
    # Expired entries are never added (and disable the copy the subscriber holds).
    entries, _, _, expired = parse_page(page.encode(), pinned, now=datetime.now(UTC) + timedelta(days=365))
    assert expired == 3 and all(e.deleted for e in entries)

    # The publisher disables one entry: the next fetch disables it at the subscriber.
    with db.session() as s:
        victim = s.scalars(select(BankEntry).where(BankEntry.value == values[0])).one()
        from haven.banks.service import set_entry_enabled

        set_entry_enabled(s, victim, False, actor="test")
    assert fetch(subscriber, "partner")["deleted"] == 1
    with subscriber.session() as s:
        assert s.scalar(select(func.count()).select_from(BankEntry).where(BankEntry.enabled.is_(True))) == 2
        assert get_exchange(s, "partner").last_error is None
    subscriber.dispose()
