"""The evidence vault: retention and purge under a frozen clock, holds, roles, export, destruction."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from haven.core import clock
from haven.core.db import Database
from haven.core.errors import Conflict, Forbidden, Invalid, NotFound
from haven.core.models import AuditRecord, Event
from haven.core.settings import Settings
from haven.cybertip import cases
from haven.cybertip.config import cybertip_settings
from haven.cybertip.models import ReportCase
from haven.evidence.config import EvidenceSettings
from haven.evidence.models import EvidenceObject
from haven.evidence.vault import Vault, place_hold, release_hold
from tests.cybertip.fixtures import ADMIN, LEGAL, REVIEWER, LiveDouble, case_for, configure, decide, make_item, run_jobs

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def _finished_case(db: Database, settings: Settings) -> str:
    with db.session() as s:
        a = make_item(s, settings, 41)
        decision_id = decide(s, [a.id])
    run_jobs(db)
    case_id = case_for(db, decision_id)
    with db.session() as s:
        cases.queue_submission(s, settings, case_id, LEGAL, cybertip_settings())
    run_jobs(db)
    with db.session() as s:
        case = s.get(ReportCase, case_id)
        assert case is not None and case.status == "finished"
    return case_id


def _objects(db: Database, case_id: str) -> list[EvidenceObject]:
    with db.session() as s:
        return list(s.scalars(select(EvidenceObject).where(EvidenceObject.case_id == case_id)))


def test_retention_one_year_then_automatic_purge(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    with clock.frozen(T0):
        case_id = _finished_case(db, settings)
        objs = _objects(db, case_id)
        assert len(objs) == 3 and all(o.retain_until == T0 + timedelta(days=365) for o in objs)
        paths = [Path(o.path) for o in objs]
        assert all(p.exists() for p in paths)

        clock.advance(timedelta(days=364))
        run_jobs(db)
        assert all(o.destroyed_at is None for o in _objects(db, case_id))

        clock.advance(timedelta(days=1, seconds=1))
        run_jobs(db)  # the purge job queued at the finished report is now due
    objs = _objects(db, case_id)
    assert all(o.destroyed_at is not None and o.wrapped_key is None for o in objs)
    assert not any(p.exists() for p in paths)
    run_jobs(db)  # reporting's subscriber scrubs its own copies once the case's material is gone
    with db.session() as s:
        purged = s.scalars(select(Event).where(Event.type == "evidence.purged")).all()
        assert {e.subject_id for e in purged} == {o.id for o in objs}
        from haven.cybertip.models import Submission, TiplineCall

        case = s.get(ReportCase, case_id)
        assert case is not None and case.reported_account == {} and case.recipients == []
        assert case.ncmec_report_id and case.status == "finished"  # the bare record stays
        assert all("<report>" not in x.xml for x in s.scalars(select(Submission).where(Submission.case_id == case_id)))
        assert all(e.request_body is None for e in s.scalars(select(TiplineCall).where(TiplineCall.case_id == case_id)))
        with pytest.raises(NotFound):
            Vault.from_settings(settings).read(s, objs[0].id, actor=LEGAL, purpose="check")


def test_a_hold_blocks_the_purge_until_released(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    with clock.frozen(T0):
        case_id = _finished_case(db, settings)
        with db.session() as s:
            hold = place_hold(s, actor=LEGAL, reason="grand jury matter 26-114", case_id=case_id)
            hold_id = hold.id
        clock.advance(timedelta(days=400))
        run_jobs(db)
        assert all(o.destroyed_at is None for o in _objects(db, case_id))
        with db.session() as s:
            assert Vault.from_settings(settings).purge(s) == []
            release_hold(s, hold_id, actor=LEGAL)
        run_jobs(db)
    assert all(o.destroyed_at is not None for o in _objects(db, case_id))


def test_account_hold_and_expired_hold(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    with clock.frozen(T0):
        case_id = _finished_case(db, settings)
        with db.session() as s:
            place_hold(
                s,
                actor=LEGAL,
                reason="preservation request",
                account_id="user-offender",
                expires_at=T0 + timedelta(days=380),
            )
        clock.advance(timedelta(days=370))
        with db.session() as s:
            media = Vault.from_settings(settings).purge(s)
        # the account hold covers its media; the report XML and receipt are not the account's
        kinds = {o.id: o.kind for o in _objects(db, case_id)}
        assert {kinds[i] for i in media} == {"report_xml", "receipt"}
        clock.advance(timedelta(days=11))  # the hold lapsed
        with db.session() as s:
            assert len(Vault.from_settings(settings).purge(s)) == 1


def test_retention_can_be_longer_never_shorter(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="at least 365"):
        EvidenceSettings(retention_days=90)
    configure(monkeypatch, settings, double, HAVEN_EVIDENCE_RETENTION_DAYS="730")
    with clock.frozen(T0):
        case_id = _finished_case(db, settings)
    assert all(o.retain_until == T0 + timedelta(days=730) for o in _objects(db, case_id))


def test_decryption_refused_without_the_role_and_audited_with_purpose(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    case_id = _finished_case(db, settings)
    media = next(o for o in _objects(db, case_id) if o.kind == "media")
    vault = Vault.from_settings(settings)
    with db.session() as s:
        for actor in (REVIEWER, ADMIN):
            with pytest.raises(Forbidden):
                vault.read(s, media.id, actor=actor, purpose="curiosity")
        with pytest.raises(Invalid):
            vault.read(s, media.id, actor=LEGAL, purpose="  ")
    with db.session() as s:
        data = vault.read(s, media.id, actor=LEGAL, purpose="respond to warrant 26-7")
    assert hashlib.sha256(data).hexdigest() == media.sha256
    with db.session() as s:
        reads = s.scalars(
            select(AuditRecord).where(
                AuditRecord.object_id == media.id, AuditRecord.action == "evidence.read", AuditRecord.actor == LEGAL.ref
            )
        ).all()
        assert [r.purpose for r in reads] == ["respond to warrant 26-7"]


def test_each_object_has_its_own_key_and_tampering_is_detected(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    case_id = _finished_case(db, settings)
    objs = _objects(db, case_id)
    assert len({o.wrapped_key for o in objs}) == len(objs)
    media = next(o for o in objs if o.kind == "media")
    raw = Path(media.path).read_bytes()
    Path(media.path).write_bytes(raw[:-1] + bytes([raw[-1] ^ 1]))
    with db.session() as s, pytest.raises(Exception):
        Vault.from_settings(settings).read(s, media.id, actor=LEGAL, purpose="check")
    other = Vault.from_settings(settings, EvidenceSettings(master_key="QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="))
    Path(media.path).write_bytes(raw)
    with db.session() as s, pytest.raises(ValueError, match="wrapped under key"):
        other.read(s, media.id, actor=LEGAL, purpose="check")


def test_custody_hash_checked_at_intake(db: Database, settings: Settings) -> None:
    with db.session() as s, pytest.raises(Invalid, match="differ from the hash"):
        Vault.from_settings(settings).put(
            s, b"abc", actor=LEGAL, kind="media", file_name="x", content_type=None, expected_sha256="0" * 64
        )


def test_export_package(db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, settings, double)
    case_id = _finished_case(db, settings)
    ids = [o.id for o in _objects(db, case_id)]
    with db.session() as s, pytest.raises(Forbidden):
        Vault.from_settings(settings).export(s, ids, actor=ADMIN, purpose="x")
    with db.session() as s:
        blob = Vault.from_settings(settings).export(s, ids, actor=LEGAL, purpose="search warrant 26-7")
    z = zipfile.ZipFile(io.BytesIO(blob))
    manifest = json.loads(z.read("manifest.json"))
    assert {o["id"] for o in manifest["objects"]} == set(ids)
    for line in z.read("SHA256SUMS").decode().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256(z.read(name)).hexdigest() == digest
    custody = json.loads(z.read("custody.json"))
    media = next(o["id"] for o in manifest["objects"] if o["kind"] == "media")
    actions = [r["action"] for r in custody[media]]
    assert actions[0] == "evidence.store" and "evidence.read" in actions


def test_destruction_on_law_enforcement_request(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    from haven.legal import service as legal

    configure(monkeypatch, settings, double)
    case_id = _finished_case(db, settings)
    media = next(o for o in _objects(db, case_id) if o.kind == "media")
    vault = Vault.from_settings(settings)
    with db.session() as s:
        req = legal.create_request(
            s, LEGAL, kind="court_order", agency="FBI", requester_name="SA Kim", targets=["user-offender"]
        )
        req_id = req.id
        hold = place_hold(s, actor=LEGAL, reason="civil litigation", object_id=media.id)
        hold_id = hold.id
    with db.session() as s, pytest.raises(Invalid, match="needs the law-enforcement request"):
        vault.destroy(s, media.id, actor=LEGAL, reason="LE request", legal_request_id=None)
    with db.session() as s, pytest.raises(Conflict, match="verified"):
        vault.destroy(s, media.id, actor=LEGAL, reason="LE request", legal_request_id=req_id)
    with db.session() as s:
        legal.verify(s, req_id, LEGAL, verified=True, note="called the field office")
    with db.session() as s, pytest.raises(Conflict, match="legal hold"):
        vault.destroy(s, media.id, actor=LEGAL, reason="LE request", legal_request_id=req_id)
    with db.session() as s:
        release_hold(s, hold_id, actor=LEGAL)
        with pytest.raises(Forbidden):
            vault.destroy(s, media.id, actor=ADMIN, reason="LE request", legal_request_id=req_id)
    with db.session() as s:
        vault.destroy(
            s, media.id, actor=LEGAL, reason="destruction requested by law enforcement", legal_request_id=req_id
        )
    assert not Path(media.path).exists()
    with db.session() as s:
        ev = s.scalars(select(Event).where(Event.type == "evidence.destroyed", Event.subject_id == media.id)).one()
        assert ev.data["legal_request_id"] == req_id


def test_orphaned_sealed_files_are_swept(db: Database, settings: Settings) -> None:
    import os
    import time

    vault = Vault.from_settings(settings)
    with db.session() as s:
        kept = vault.put(s, b"kept", actor=LEGAL, kind="media", file_name="k", content_type=None)
    try:
        with db.session() as s:
            vault.put(s, b"rolled back", actor=LEGAL, kind="media", file_name="r", content_type=None)
            raise RuntimeError("the transaction fails after the file was written")
    except RuntimeError:
        pass
    files = sorted(vault.root.iterdir())
    assert len(files) == 2
    old = time.time() - 2 * 86400
    for p in files:
        os.utime(p, (old, old))
    with db.session() as s:
        removed = vault.sweep_orphans(s)
    assert len(removed) == 1 and [p.name for p in vault.root.iterdir()] == [f"{kept.id}.bin"]
