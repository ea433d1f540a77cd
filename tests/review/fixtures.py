"""Helpers for review and console tests: staff with TOTP and training, flagged benign media."""

from __future__ import annotations

import pyotp

from haven.core import clock
from haven.core.db import Database
from haven.review.service import Reviewer
from haven.staff import service as svc
from haven.staff import training
from haven.staff.models import StaffMember

PASSWORD = "a long enough password"


def make_staff(
    db: Database, email: str, roles: list[str], *, trained: bool = True, enrol: bool = True
) -> tuple[str, str]:
    """A staff member with a password (and TOTP unless enrol=False); returns (id, TOTP secret)."""
    with db.session() as s:
        created = svc.create_staff(s, email, roles, actor="cli")
        svc.complete_setup(s, created.setup_token or "", PASSWORD)
        staff = s.get(StaffMember, created.staff.id)
        assert staff is not None
        secret = ""
        if enrol:
            ns = svc.sign_in_password(s, email, PASSWORD)
            secret = svc.begin_enrolment(staff)
            svc.confirm_enrolment(s, ns.row, staff, pyotp.TOTP(secret).at(clock.now()))
            staff.totp_last_step = None  # let the test sign in again within the same 30 s
        if trained:
            for slug in training.MODULES:
                training.complete_module(
                    s, staff, slug, actor=f"staff:{staff.id}", answers=training.correct_answers(slug)
                )
        return staff.id, secret


def reviewer(db: Database, staff_id: str, session_id: str | None = None) -> Reviewer:
    with db.session() as s:
        staff = s.get(StaffMember, staff_id)
        assert staff is not None
        return Reviewer(staff.id, frozenset(staff.roles), training.is_current(s, staff.id), session_id)


def bank_and_flag(client, data: bytes, copy: bytes, bank: str = "known", classification: str = "A1") -> dict:  # type: ignore[no-untyped-def]
    """Bank the PDQ of `data` as known material and upload `copy`; returns the intake answer."""
    r = client.post("/v1/banks", json={"name": bank, "kind": "known_csam", "default_classification": classification})
    assert r.status_code in (201, 409), r.text
    from haven.signals.image import hash_image

    pdq = hash_image(data).pdq
    r = client.post(f"/v1/banks/{bank}/entries", json={"entries": [{"signal_type": "pdq", "value": pdq}]})
    assert r.status_code == 201, r.text
    r = client.post("/v1/content", files={"file": ("x.jpg", copy)}, data={"metadata": '{"uploader": "acct-1"}'})
    assert r.status_code == 200, r.text
    return dict(r.json())
