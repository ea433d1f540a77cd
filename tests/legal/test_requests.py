"""Law-enforcement requests: preservation holds, verification, deadlines, notice, productions
limited by the kind of process."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from haven.cli import app
from haven.core import clock
from haven.core.db import Database
from haven.core.errors import Conflict, Forbidden, Invalid
from haven.core.settings import Settings
from haven.cybertip import cases
from haven.cybertip.config import cybertip_settings
from haven.evidence.vault import Vault, active_holds
from haven.legal import service
from tests.conftest import LiveServer, make_key
from tests.cybertip.fixtures import ADMIN, LEGAL, LiveDouble, case_for, configure, decide, make_item, run_jobs

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _reported(db: Database, settings: Settings) -> str:
    with db.session() as s:
        item = make_item(s, settings, 51, uploader="user-target")
        decision_id = decide(s, [item.id], uploader="user-target")
    run_jobs(db)
    case_id = case_for(db, decision_id)
    with db.session() as s:
        cases.queue_submission(s, settings, case_id, LEGAL, cybertip_settings())
    run_jobs(db)
    return case_id


def test_preservation_holds_for_90_days_renewable_once(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import select

    from haven.evidence.models import EvidenceObject

    configure(monkeypatch, settings, double)
    with clock.frozen(T0):
        _reported(db, settings)
        with db.session() as s:
            req = service.create_request(
                s,
                LEGAL,
                kind="preservation",
                agency="County Sheriff",
                requester_name="Det. Lee",
                targets=["user-target"],
                reference="P-1",
            )
            req_id = req.id
        with db.session() as s:
            media = s.scalars(select(EvidenceObject).where(EvidenceObject.kind == "media")).one()
            holds = active_holds(s, media)
            assert len(holds) == 1 and holds[0].expires_at == T0 + timedelta(days=90)
            service.renew_preservation(s, req_id, LEGAL)
        with db.session() as s:
            assert active_holds(s, media)[0].expires_at == T0 + timedelta(days=180)
            with pytest.raises(Conflict, match="extended once"):
                service.renew_preservation(s, req_id, LEGAL)
        # Retention ends at one year; the hold ran out at 180 days: the purge proceeds.
        clock.advance(timedelta(days=366))
        with db.session() as s:
            assert media.id in Vault.from_settings(settings).purge(s)


def test_production_is_limited_by_the_kind_of_process(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    _reported(db, settings)
    with db.session() as s:
        sub = service.create_request(
            s, LEGAL, kind="subpoena", agency="FBI", requester_name="SA Kim", targets=["user-target"]
        )
        warrant = service.create_request(
            s, LEGAL, kind="search_warrant", agency="FBI", requester_name="SA Kim", targets=["user-target"]
        )
        order = service.create_request(
            s, LEGAL, kind="court_order", agency="FBI", requester_name="SA Kim", targets=["user-target"]
        )
        foreign = service.create_request(
            s, LEGAL, kind="foreign", agency="Polizei", requester_name="KK Braun", targets=["user-target"], country="DE"
        )
        ids = {"sub": sub.id, "warrant": warrant.id, "order": order.id, "foreign": foreign.id}
    with db.session() as s:
        with pytest.raises(Conflict, match="verify the requester"):
            service.produce(s, settings, ids["sub"], LEGAL, include=["subscriber"])
        for key in ids.values():
            service.verify(s, key, LEGAL, verified=True, note="called back the field office's published number")
    with db.session() as s:
        with pytest.raises(Forbidden, match="does not allow producing content"):
            service.produce(s, settings, ids["sub"], LEGAL, include=["subscriber", "content"])
        with pytest.raises(Forbidden, match="non_content"):
            service.produce(s, settings, ids["sub"], LEGAL, include=["non_content"])
        with pytest.raises(Forbidden, match="content"):
            service.produce(s, settings, ids["order"], LEGAL, include=["content"])
        with pytest.raises(Forbidden, match="nothing is produced"):
            service.produce(s, settings, ids["foreign"], LEGAL, include=["subscriber"])
        with pytest.raises(Forbidden):
            service.produce(s, settings, ids["warrant"], ADMIN, include=["subscriber"])
    with db.session() as s:
        sub_zip = zipfile.ZipFile(io.BytesIO(service.produce(s, settings, ids["sub"], LEGAL, include=["subscriber"])))
        assert {n for n in sub_zip.namelist() if n.startswith("objects/")} == set()
        assert "records.json" not in sub_zip.namelist()
        assert json.loads(sub_zip.read("subscriber.json"))[0]["account_id"] == "user-target"
        order_zip = zipfile.ZipFile(
            io.BytesIO(service.produce(s, settings, ids["order"], LEGAL, include=["subscriber", "non_content"]))
        )
        records = json.loads(order_zip.read("records.json"))
        assert records[0]["ip"] == "203.0.113.7" and "md5" not in records[0]
        warrant_zip = zipfile.ZipFile(
            io.BytesIO(
                service.produce(s, settings, ids["warrant"], LEGAL, include=["subscriber", "non_content", "content"])
            )
        )
        objects = [n for n in warrant_zip.namelist() if n.startswith("objects/")]
        assert len(objects) == 1 and objects[0].endswith(".jpeg")
        assert json.loads(warrant_zip.read("manifest.json"))["legal_request_id"] == ids["warrant"]


def test_nondisclosure_order_blocks_user_notice(db: Database) -> None:
    with clock.frozen(T0), db.session() as s:
        req = service.create_request(
            s,
            LEGAL,
            kind="subpoena",
            agency="DA",
            requester_name="ADA Park",
            targets=["u1"],
            nondisclosure_until=T0 + timedelta(days=180),
        )
        with pytest.raises(Conflict, match="non-disclosure order"):
            service.decide_notice(s, req.id, LEGAL, decision="notify", reason="policy is to notify")
        service.decide_notice(s, req.id, LEGAL, decision="withhold", reason="NDO under 2705(b)")
        clock.advance(timedelta(days=181))
        service.decide_notice(s, req.id, LEGAL, decision="notify", reason="NDO expired")


def test_deadlines_and_overdue(db: Database) -> None:
    with clock.frozen(T0):
        with db.session() as s:
            emergency = service.create_request(
                s, LEGAL, kind="emergency", agency="State Police", requester_name="Sgt. Ruiz", targets=["u2"]
            )
            service.create_request(s, LEGAL, kind="subpoena", agency="DA", requester_name="ADA Park", targets=["u3"])
            assert emergency.due_at == T0 + timedelta(hours=2)
        clock.advance(timedelta(hours=3))
        with db.session() as s:
            overdue = service.listing(s, LEGAL, overdue_only=True)
            assert [r["id"] for r in overdue] == [emergency.id]
            everything = service.listing(s, LEGAL)
            assert everything[0]["id"] == emergency.id and everything[0]["overdue"]
            with pytest.raises(Forbidden):
                service.listing(s, ADMIN)
            with pytest.raises(Invalid):
                service.create_request(s, LEGAL, kind="letter", agency="x", requester_name="y", targets=["u"])
            with pytest.raises(Invalid, match="foreign"):
                service.create_request(
                    s, LEGAL, kind="subpoena", agency="x", requester_name="y", targets=["u"], country="FR"
                )


def test_legal_cli_and_api(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch, db_url: str, server: LiveServer
) -> None:
    monkeypatch.setenv("HAVEN_DATABASE_URL", db_url)
    monkeypatch.setenv("HAVEN_VAR_DIR", str(settings.var_dir))
    runner = CliRunner()
    r = runner.invoke(
        app,
        [
            "legal",
            "new",
            "--kind",
            "court_order",
            "--agency",
            "FBI",
            "--requester",
            "SA Kim",
            "--target",
            "u9",
            "--due",
            "2020-01-01T00:00:00Z",
        ],
    )
    assert r.exit_code == 0, r.output
    req_id = r.output.strip()
    r = runner.invoke(app, ["legal", "list", "--overdue", "--json"])
    assert [x["id"] for x in json.loads(r.output)] == [req_id]
    r = runner.invoke(
        app, ["legal", "produce", req_id, "--include", "content", "--out", str(settings.var_dir / "x.zip")]
    )
    assert r.exit_code == 2 and "does not allow producing content" in r.output
    key = make_key(db, ["legal"])
    with server.client(key) as c:
        r = c.post(
            "/v1/legal/requests",
            json={"kind": "preservation", "agency": "HSI", "requester_name": "SA Cho", "targets": ["u10"]},
        )
        assert r.status_code == 201 and r.json()["preservation_expires_at"]
        rid = r.json()["id"]
        assert c.post(f"/v1/legal/requests/{rid}/renew").status_code == 200
        assert c.post(f"/v1/legal/requests/{rid}/renew").json()["error"]["code"] == "renewal_limit"
        assert c.get("/v1/legal/requests", params={"overdue": True}).json()[0]["id"] == req_id
        r = c.post(
            "/v1/legal/requests",
            json={
                "kind": "subpoena",
                "agency": "x",
                "requester_name": "y",
                "targets": [],
                "due_at": "2026-01-01T00:00:00",
            },
        )
        assert r.status_code == 422
    with server.client(make_key(db, ["evidence"])) as c:
        holds = c.get("/v1/evidence/holds").json()
        assert [h["account_id"] for h in holds] == ["u10"]
        assert c.get("/v1/legal/requests").status_code == 403
