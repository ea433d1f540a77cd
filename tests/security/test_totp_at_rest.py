"""TOTP secrets sealed at rest (issue 19, item 8): the column never holds the secret, codes
still verify, the migration seals existing rows, and the key can be rotated."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from alembic import command
from argon2 import PasswordHasher
from sqlalchemy import text

from haven.core import clock
from haven.core.db import Database
from haven.core.migrate import alembic_config, upgrade
from haven.core.settings import get_settings
from haven.staff import service as svc
from haven.staff.models import StaffMember

PW = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_argon2() -> Iterator[None]:
    previous = svc._hasher
    svc._hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    yield
    svc._hasher = previous


def _enrol(db: Database, email: str) -> tuple[str, str]:
    with db.session() as s:
        created = svc.create_staff(s, email, ["reviewer"], actor="cli")
        svc.complete_setup(s, created.setup_token or "", PW)
        ns = svc.sign_in_password(s, email, PW)
        staff = s.get(StaffMember, created.staff.id)
        assert staff is not None
        secret = svc.begin_enrolment(staff)
        svc.confirm_enrolment(s, ns.row, staff, pyotp.TOTP(secret).at(clock.now()))
        staff.totp_last_step = None
        return staff.id, secret


def _stored(db: Database, staff_id: str) -> str:
    with db.engine.connect() as conn:
        return str(conn.execute(text("SELECT totp_secret FROM staff WHERE id = :i"), {"i": staff_id}).scalar_one())


def _second_factor_works(db: Database, email: str, secret: str) -> bool:
    with db.session() as s:
        ns = svc.sign_in_password(s, email, PW)
        staff = s.get(StaffMember, ns.row.staff_id)
        assert staff is not None
        return svc.verify_second_factor(s, ns.row, staff, pyotp.TOTP(secret).at(clock.now())) == "totp"


def test_totp_secret_is_not_stored_in_clear(db: Database) -> None:
    sid, secret = _enrol(db, "rest@example.org")
    stored = _stored(db, sid)
    assert secret not in stored and stored.startswith("v1.")
    assert secret.encode() not in base64.urlsafe_b64decode(stored[3:])
    assert _second_factor_works(db, "rest@example.org", secret)


def test_migration_seals_existing_plaintext_secrets(tmp_path: Path, sqlite_template: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    cfg = alembic_config(url)
    command.downgrade(cfg, "0100_review")  # the schema before this change
    db = Database(url)
    secret = pyotp.random_base32()
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO staff (id, email, display_name, roles, totp_secret, totp_enabled_at, failed_logins,"
                " preferences, created_at) VALUES ('01OLDSTAFF0000000000000000', 'old@example.org', 'old', '[]',"
                " :s, '2026-01-01 00:00:00', 0, '{}', '2026-01-01 00:00:00')"
            ),
            {"s": secret},
        )
    upgrade(url)
    stored = _stored(db, "01OLDSTAFF0000000000000000")
    assert stored.startswith("v1.") and secret not in stored
    with db.session() as s:
        staff = s.get(StaffMember, "01OLDSTAFF0000000000000000")
        assert staff is not None and svc.totp_secret(staff) == secret
    command.downgrade(cfg, "0100_review")  # and back: the downgrade unseals
    assert _stored(db, "01OLDSTAFF0000000000000000") == secret
    db.dispose()


def test_key_rotation_reseals_under_the_new_key(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    sid, secret = _enrol(db, "rot@example.org")
    old = base64.b64encode(get_settings().totp_keys()[0]).decode()
    new = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("HAVEN_TOTP_KEY", new)
    monkeypatch.setenv("HAVEN_TOTP_PREVIOUS_KEYS", old)
    get_settings.cache_clear()
    try:
        before = _stored(db, sid)
        with db.session() as s:
            assert svc.reseal_totp_secrets(s) == 1
        after = _stored(db, sid)
        assert after != before
        monkeypatch.delenv("HAVEN_TOTP_PREVIOUS_KEYS")
        get_settings.cache_clear()
        with db.session() as s:  # the old key is gone: the resealed secret still opens
            staff = s.get(StaffMember, sid)
            assert staff is not None and svc.totp_secret(staff) == secret
        with clock.frozen(clock.now()):
            assert _second_factor_works(db, "rot@example.org", secret)
    finally:
        get_settings.cache_clear()
