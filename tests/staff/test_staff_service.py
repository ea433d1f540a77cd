"""Staff accounts on the real database: set-up links, argon2 passwords, TOTP, recovery codes,
lockout with back-off, sessions and sign-out everywhere, and the `haven staff` command."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from haven.core import clock
from haven.core.db import Database
from haven.core.errors import Forbidden, Invalid, NotFound, Unauthorized
from haven.core.models import AuditRecord
from haven.staff import service as svc
from haven.staff.config import StaffSettings
from haven.staff.models import StaffMember

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PW = "correct horse battery"


def _enrolled(db: Database, email: str = "a@example.org", roles: list[str] | None = None) -> tuple[str, str]:
    """Create, set a password, enrol TOTP; returns (staff id, totp secret)."""
    with db.session() as s:
        created = svc.create_staff(s, email, roles or ["reviewer"], actor="cli")
        svc.complete_setup(s, created.setup_token or "", PW)
        ns = svc.sign_in_password(s, email, PW)
        staff = s.get(StaffMember, created.staff.id)
        assert staff is not None
        secret = svc.begin_enrolment(staff)
        svc.confirm_enrolment(s, ns.row, staff, pyotp.TOTP(secret).at(clock.now()))
        return staff.id, secret


def test_setup_link_password_and_totp_enrolment(db: Database) -> None:
    with clock.frozen(T0), db.session() as s:
        created = svc.create_staff(s, "Rev@Example.org", ["reviewer"], actor="cli")
        assert created.setup_token and created.password is None
        staff = created.staff
        assert staff.email == "rev@example.org" and staff.password_hash is None
        with pytest.raises(Invalid):
            svc.complete_setup(s, created.setup_token, "short")
        svc.complete_setup(s, created.setup_token, PW)
        assert staff.password_hash and staff.password_hash.startswith("$argon2id$")
        with pytest.raises(NotFound):  # the link works once
            svc.complete_setup(s, created.setup_token, PW)
        ns = svc.sign_in_password(s, "rev@example.org", PW)
        assert ns.row.stage == "password"
        secret = svc.begin_enrolment(staff)
        assert "otpauth://totp/" in svc.provisioning_uri(staff)
        assert svc.qr_svg(svc.provisioning_uri(staff)).startswith("<svg")
        with pytest.raises(Unauthorized):
            svc.confirm_enrolment(s, ns.row, staff, "000000")
        codes = svc.confirm_enrolment(s, ns.row, staff, pyotp.TOTP(secret).at(T0))
        assert ns.row.stage == "full" and staff.totp_enabled_at == T0
        assert len(codes) == 10 and len(set(codes)) == 10
        assert svc.remaining_recovery_codes(s, staff.id) == 10
        # A recovery code works once; a TOTP code cannot be replayed.
        ns2 = svc.sign_in_password(s, "rev@example.org", PW)
        assert svc.verify_second_factor(s, ns2.row, staff, codes[0]) == "recovery"
        ns3 = svc.sign_in_password(s, "rev@example.org", PW)
        with pytest.raises(Unauthorized):
            svc.verify_second_factor(s, ns3.row, staff, codes[0])
        with pytest.raises(Unauthorized):
            svc.verify_second_factor(s, ns3.row, staff, pyotp.TOTP(secret).at(T0))  # replayed
        clock.advance(timedelta(seconds=30))
        assert svc.verify_second_factor(s, ns3.row, staff, pyotp.TOTP(secret).at(clock.now())) == "totp"


def test_setup_link_expires(db: Database) -> None:
    with clock.frozen(T0):
        with db.session() as s:
            token = svc.create_staff(s, "x@example.org", ["admin"], actor="cli").setup_token
        clock.advance(timedelta(hours=73))
        with db.session() as s, pytest.raises(NotFound):
            svc.complete_setup(s, token or "", PW)


def test_lockout_backs_off_and_persists_failures(db: Database) -> None:
    cfg = StaffSettings(lockout_after=3, lockout_base_seconds=30)
    with clock.frozen(T0):
        _enrolled(db, "l@example.org")
        for _ in range(3):
            with db.session() as s, pytest.raises(Unauthorized):
                svc.sign_in_password(s, "l@example.org", "wrong password!", config=cfg)
        with db.session() as s, pytest.raises(Forbidden) as exc:  # locked even with the right password
            svc.sign_in_password(s, "l@example.org", PW, config=cfg)
        assert exc.value.code == "locked" and exc.value.details["retry_after"] == 30
        clock.advance(timedelta(seconds=31))
        with db.session() as s, pytest.raises(Unauthorized):
            svc.sign_in_password(s, "l@example.org", "wrong again!!", config=cfg)
        with db.session() as s:
            staff = s.scalar(select(StaffMember).where(StaffMember.email == "l@example.org"))
            assert staff is not None and staff.failed_logins == 4
        with db.session() as s, pytest.raises(Forbidden) as exc:
            svc.sign_in_password(s, "l@example.org", PW, config=cfg)
        assert exc.value.details["retry_after"] == 60  # doubled
        with db.session() as s:
            fails = s.scalars(select(AuditRecord).where(AuditRecord.action == "staff.password_failed")).all()
            assert len(fails) == 4
        clock.advance(timedelta(seconds=61))
        with db.session() as s:
            ns = svc.sign_in_password(s, "l@example.org", PW, config=cfg)
            assert ns.row.stage == "password"
    with db.session() as s, pytest.raises(Unauthorized):  # unknown email: same answer
        svc.sign_in_password(s, "nobody@example.org", PW)


def test_sessions_expire_and_sign_out_everywhere(db: Database) -> None:
    cfg = StaffSettings(session_idle_minutes=30, session_hours=8)
    with clock.frozen(T0):
        sid, _ = _enrolled(db, "s@example.org")
        with db.session() as s:
            a = svc.sign_in_password(s, "s@example.org", PW)
            b = svc.sign_in_password(s, "s@example.org", PW)
        with db.session() as s:
            assert svc.resolve_session(s, a.token, config=cfg) is not None
            assert svc.resolve_session(s, "not-a-token", config=cfg) is None
        clock.advance(timedelta(minutes=31))
        with db.session() as s:
            assert svc.resolve_session(s, a.token, config=cfg) is None  # idle
        with db.session() as s:
            half = svc.sign_in_password(s, "s@example.org", PW)  # never gives its second factor
        clock.advance(timedelta(minutes=11))
        with db.session() as s:
            assert svc.resolve_session(s, half.token, config=cfg) is None
            c = svc.sign_in_password(s, "s@example.org", PW)
            c.row.stage = "full"
        with db.session() as s:
            assert svc.resolve_session(s, c.token, config=cfg) is not None
            assert svc.revoke_all_sessions(s, sid, actor=f"staff:{sid}") >= 2
        with db.session() as s:
            assert svc.resolve_session(s, c.token, config=cfg) is None
            assert svc.resolve_session(s, b.token, config=cfg) is None


def test_cli_staff_create_prints_link_and_rejects_bad_role(db: Database, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from haven.cli import app
    from haven.core.settings import get_settings

    monkeypatch.setenv("HAVEN_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("HAVEN_PUBLIC_URL", "https://haven.example")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        r = runner.invoke(app, ["staff", "create", "new@example.org", "--role", "reviewer", "--json"])
        assert r.exit_code == 0, r.output
        out = json.loads(r.stdout)
        assert out["setup_link"].startswith("https://haven.example/console/setup/")
        r = runner.invoke(app, ["staff", "create", "pw@example.org", "--role", "admin", "--password"])
        assert r.exit_code == 0 and len(r.stdout.strip().splitlines()[-1]) >= 16
        r = runner.invoke(app, ["staff", "create", "bad@example.org", "--role", "overlord"])
        assert r.exit_code == 2 and "unknown role" in r.output
        r = runner.invoke(app, ["staff", "create", "new@example.org", "--role", "reviewer"])
        assert r.exit_code == 2 and "exists" in r.output
    finally:
        get_settings.cache_clear()


def test_cli_list_roles_reset_disable(db: Database, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from haven.cli import app
    from haven.core.settings import get_settings

    sid, _ = _enrolled(db, "ops@example.org")
    monkeypatch.setenv("HAVEN_DATABASE_URL", settings.effective_database_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        r = runner.invoke(app, ["staff", "roles", "ops@example.org", "--role", "senior", "--role", "legal"])
        assert r.exit_code == 0, r.output
        rows = json.loads(runner.invoke(app, ["staff", "list", "--json"]).stdout)
        assert rows == [
            {"id": sid, "email": "ops@example.org", "roles": ["senior", "legal"], "two_factor": True, "state": "active"}
        ]
        r = runner.invoke(app, ["staff", "reset", "ops@example.org"])
        assert r.exit_code == 0 and "/console/setup/" in r.stdout
        with db.session() as s:
            staff = s.get(StaffMember, sid)
            assert staff is not None and staff.password_hash is None and staff.totp_enabled_at is None
        assert runner.invoke(app, ["staff", "disable", "ops@example.org"]).exit_code == 0
        assert json.loads(runner.invoke(app, ["staff", "list", "--json"]).stdout)[0]["state"] == "disabled"
        r = runner.invoke(app, ["staff", "disable", "ghost@example.org"])
        assert r.exit_code == 2 and "no staff member" in r.output
    finally:
        get_settings.cache_clear()
