"""Banks over real HTTP: CRUD, entries, import/export, disabling, flood quarantine."""

from __future__ import annotations

import json

from sqlalchemy import select

from haven.banks.models import BankEntry
from haven.core.db import Database
from haven.core.models import AuditRecord, Event
from tests.conftest import LiveServer
from tests.helpers import encode, sample

PDQ_A = "f" * 64
CSV = "signal_type,value,classification,source_ref\nmd5,{md5},A1,case-1\npdq,{pdq},B2,case-2\n"


def test_bank_crud_and_validation(server: LiveServer, api_key: str, db: Database) -> None:
    with server.client(api_key) as c:
        r = c.post("/v1/banks", json={"name": "ncmec", "kind": "known_csam", "pdq_threshold": 28})
        assert r.status_code == 201 and r.json()["pdq_threshold"] == 28 and r.json()["entries"] == 0
        assert c.post("/v1/banks", json={"name": "ncmec", "kind": "known_csam"}).json()["error"]["code"] == (
            "bank_exists"
        )
        bad = c.post("/v1/banks", json={"name": "x", "kind": "nonsense"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
        r = c.patch("/v1/banks/ncmec", json={"description": "NCMEC hash list", "enabled": False})
        assert r.status_code == 200 and r.json()["enabled"] is False
        assert [b["name"] for b in c.get("/v1/banks").json()] == ["ncmec"]
        assert c.get("/v1/banks/nope").status_code == 404
        assert c.delete("/v1/banks/ncmec").status_code == 204
        assert c.get("/v1/banks").json() == []
    with db.session() as s:
        actions = [a.action for a in s.scalars(select(AuditRecord).order_by(AuditRecord.created_at))]
        assert actions == ["bank.create", "bank.update", "bank.delete"]
        types = {e.type for e in s.scalars(select(Event))}
        assert {"bank.created", "bank.updated", "bank.deleted"} <= types


def test_import_export_round_trip_and_all_or_nothing(server: LiveServer, api_key: str) -> None:
    md5 = "0" * 31 + "a"
    with server.client(api_key) as c:
        c.post("/v1/banks", json={"name": "imp", "kind": "known_exploitation"})
        r = c.post("/v1/banks/imp/import?format=csv", content=CSV.format(md5=md5, pdq=PDQ_A))
        assert r.status_code == 201 and r.json()["added"] == 2
        # Duplicates are skipped; a file with one bad line is rejected whole, naming the line.
        bad = CSV.format(md5=md5, pdq=PDQ_A) + "sha256,not-hex,,\n"
        r = c.post("/v1/banks/imp/import?format=csv", content=bad)
        assert r.status_code == 422
        err = r.json()["error"]
        assert err["code"] == "invalid_entries" and err["details"]["problems"][0]["line"] == 4
        exported = c.get("/v1/banks/imp/export?format=csv").text
        assert exported.splitlines()[0] == "signal_type,value,classification,source_ref"
        assert f"md5,{md5},A1,case-1" in exported and f"pdq,{PDQ_A},B2,case-2" in exported
        lines = c.get("/v1/banks/imp/export?format=jsonl").text.splitlines()
        assert {json.loads(x)["signal_type"] for x in lines} == {"md5", "pdq"}
        c.post("/v1/banks", json={"name": "copy", "kind": "known_exploitation"})
        r = c.post("/v1/banks/copy/import?format=jsonl", content="\n".join(lines))
        assert r.status_code == 201, r.text
        assert r.json()["added"] == 2
        no_header = c.post("/v1/banks/copy/import?format=csv", content=f"md5,{md5}\n")
        assert no_header.status_code == 422 and no_header.json()["error"]["code"] == "invalid_csv_header"


def test_disabled_entry_stops_matching_without_rebuild(server: LiveServer, api_key: str) -> None:
    data = encode(sample("chelsea"))
    with server.client(api_key) as c:
        pdq = c.post("/v1/content", files={"file": ("c.jpg", data)}).json()["hashes"]["pdq"]
        c.post("/v1/banks", json={"name": "k", "kind": "known_csam"})
        entry_id = c.post("/v1/banks/k/entries", json={"entries": [{"signal_type": "pdq", "value": pdq}]}).json()[
            "ids"
        ][0]
        assert c.post("/v1/content", files={"file": ("c.jpg", data)}).json()["verdict"]["action"] == "block"
        r = c.patch(f"/v1/banks/k/entries/{entry_id}", json={"enabled": False})
        assert r.status_code == 200 and r.json()["enabled"] is False
        assert c.post("/v1/content", files={"file": ("c.jpg", data)}).json()["verdict"]["action"] == "allow"
        c.patch(f"/v1/banks/k/entries/{entry_id}", json={"enabled": True})
        c.patch("/v1/banks/k", json={"pdq_threshold": 0})
        resized = encode(sample("chelsea").resize((200, 150)))
        assert c.post("/v1/content", files={"file": ("c.jpg", resized)}).json()["verdict"]["action"] == "allow"


def test_flood_protection_quarantines_an_entry(server: LiveServer, api_key: str, db: Database, settings) -> None:
    settings.flood_max_distinct = 3
    base = sample("coins")
    with server.client(api_key) as c:
        pdq = c.post("/v1/content", files={"file": ("x.png", encode(base, "PNG"))}).json()["hashes"]["pdq"]
        c.post("/v1/banks", json={"name": "k", "kind": "known_csam"})
        c.post("/v1/banks/k/entries", json={"entries": [{"signal_type": "pdq", "value": pdq}]})
        verdicts = []
        for q in range(60, 66):  # distinct uploads (different bytes) of the same picture
            body = c.post("/v1/content", files={"file": ("x.jpg", encode(base, quality=q))}).json()
            verdicts.append(body["verdict"]["rule"])
    # The first uploads block; once the entry matched more than 3 distinct uploads in the window
    # it is quarantined and later matches go to review instead.
    assert verdicts[:4] == ["known_material.block"] * 4
    assert verdicts[-1] == "known_material.quarantined_entry"
    with db.session() as s:
        entry = s.scalars(select(BankEntry).where(BankEntry.variant_of.is_(None))).one()
        assert entry.quarantined_at is not None and "more than 3" in (entry.quarantine_reason or "")
        assert s.scalars(select(Event).where(Event.type == "bank.entry_quarantined")).one().subject_id == entry.id
