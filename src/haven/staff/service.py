"""Staff accounts and sign-in: argon2id passwords, mandatory TOTP with recovery codes,
server-side sessions (so "sign out everywhere" works), lockout with back-off.

Pure of the web layer: the console's pages call these functions and set cookies.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from haven.core.actors import ROLES, Actor
from haven.core.clock import now
from haven.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from haven.core.ledger import audit, record_event
from haven.staff.config import StaffSettings, staff_settings
from haven.staff.models import RecoveryCode, StaffMember, StaffSession

_hasher = PasswordHasher()
#: Verified against when the email is unknown, so timing does not reveal which emails exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD = 12
RECOVERY_CODES = 10
#: Between password and second factor a session lives this long.
PARTIAL_SESSION = timedelta(minutes=10)
ISSUER = "Haven"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def actor_of(staff: StaffMember) -> Actor:
    """The `Actor` of a staff member, for audit and ledger records."""
    return Actor("staff", staff.id, frozenset(staff.roles))


def check_roles(roles: list[str]) -> list[str]:
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise Invalid(f"unknown role(s) {', '.join(bad) or '(none)'}; roles: {', '.join(ROLES)}", code="invalid_role")
    return sorted(set(roles), key=ROLES.index)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"a password needs at least {MIN_PASSWORD} characters", code="weak_password")
    if len(password) > 1024:
        raise Invalid("a password may have at most 1024 characters", code="weak_password")


@dataclass
class Created:
    staff: StaffMember
    setup_token: str | None
    password: str | None


def create_staff(
    session: Session,
    email: str,
    roles: list[str],
    *,
    actor: str,
    display_name: str = "",
    with_password: bool = False,
    config: StaffSettings | None = None,
) -> Created:
    """Create an account. By default it gets a one-time set-up link token (the person chooses a
    password); with `with_password` a random password is generated and returned once."""
    cfg = config or staff_settings()
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise Invalid("give an email address", code="invalid_email")
    roles = check_roles(roles)
    if session.scalar(select(StaffMember.id).where(StaffMember.email == email)) is not None:
        raise Conflict(f"a staff member with email {email} exists", code="staff_exists")
    staff = StaffMember(email=email, display_name=display_name or email.split("@")[0], roles=roles, preferences={})
    token: str | None = None
    password: str | None = None
    if with_password:
        password = secrets.token_urlsafe(15)
        staff.password_hash = _hasher.hash(password)
    else:
        token = secrets.token_urlsafe(32)
        staff.setup_token_sha256 = sha256(token)
        staff.setup_expires_at = now() + timedelta(hours=cfg.setup_link_hours)
    session.add(staff)
    session.flush()
    record_event(
        session, "staff.created", subject_type="staff", subject_id=staff.id, actor=actor, data={"roles": roles}
    )
    audit(
        session, actor=actor, action="staff.create", object_type="staff", object_id=staff.id, details={"roles": roles}
    )
    return Created(staff, token, password)


def get_staff(session: Session, id_or_email: str) -> StaffMember:
    row = session.get(StaffMember, id_or_email) or session.scalar(
        select(StaffMember).where(StaffMember.email == id_or_email.strip().lower())
    )
    if row is None:
        raise NotFound(f"no staff member '{id_or_email}'", code="staff_not_found")
    return row


def list_staff(session: Session) -> list[StaffMember]:
    return list(session.scalars(select(StaffMember).order_by(StaffMember.email)))


def set_roles(session: Session, staff: StaffMember, roles: list[str], *, actor: str) -> None:
    roles = check_roles(roles)
    before = list(staff.roles)
    staff.roles = roles
    record_event(
        session,
        "staff.roles_changed",
        subject_type="staff",
        subject_id=staff.id,
        actor=actor,
        data={"before": before, "after": roles},
    )
    audit(
        session,
        actor=actor,
        action="staff.roles",
        object_type="staff",
        object_id=staff.id,
        details={"before": before, "after": roles},
    )


def reset_setup(session: Session, staff: StaffMember, *, actor: str, config: StaffSettings | None = None) -> str:
    """Issue a new set-up link (lost password or authenticator): clears password, TOTP and
    recovery codes and signs the person out everywhere."""
    cfg = config or staff_settings()
    token = secrets.token_urlsafe(32)
    staff.setup_token_sha256 = sha256(token)
    staff.setup_expires_at = now() + timedelta(hours=cfg.setup_link_hours)
    staff.password_hash = None
    staff.totp_secret = None
    staff.totp_enabled_at = None
    staff.failed_logins = 0
    staff.locked_until = None
    for code in session.scalars(select(RecoveryCode).where(RecoveryCode.staff_id == staff.id)):
        session.delete(code)
    revoke_all_sessions(session, staff.id, actor=actor)
    record_event(session, "staff.reset", subject_type="staff", subject_id=staff.id, actor=actor)
    audit(session, actor=actor, action="staff.reset", object_type="staff", object_id=staff.id)
    return token


def disable_staff(session: Session, staff: StaffMember, *, actor: str) -> None:
    staff.disabled_at = now()
    revoke_all_sessions(session, staff.id, actor=actor)
    record_event(session, "staff.disabled", subject_type="staff", subject_id=staff.id, actor=actor)
    audit(session, actor=actor, action="staff.disable", object_type="staff", object_id=staff.id)


def staff_for_setup_token(session: Session, token: str) -> StaffMember:
    staff = session.scalar(select(StaffMember).where(StaffMember.setup_token_sha256 == sha256(token)))
    if staff is None or staff.setup_expires_at is None or staff.setup_expires_at < now() or staff.disabled_at:
        raise NotFound("this set-up link is unknown or has expired; ask an admin for a new one", code="setup_expired")
    return staff


def complete_setup(session: Session, token: str, password: str) -> StaffMember:
    """Set the password chosen through a set-up link; the link then stops working."""
    staff = staff_for_setup_token(session, token)
    check_password(password)
    staff.password_hash = _hasher.hash(password)
    staff.setup_token_sha256 = None
    staff.setup_expires_at = None
    audit(session, actor=actor_of(staff).ref, action="staff.password_set", object_type="staff", object_id=staff.id)
    return staff


# --- lockout -------------------------------------------------------------------------------


def _is_locked(staff: StaffMember) -> bool:
    return staff.locked_until is not None and staff.locked_until > now()


def _fail(session: Session, staff: StaffMember, cfg: StaffSettings, what: str, ip: str | None) -> None:
    """Count a failure; from `lockout_after` failures on, lock for a doubling period."""
    staff.failed_logins += 1
    over = staff.failed_logins - cfg.lockout_after
    if over >= 0:
        seconds = min(cfg.lockout_max_seconds, cfg.lockout_base_seconds * (2**over))
        staff.locked_until = now() + timedelta(seconds=seconds)
    audit(
        session,
        actor=actor_of(staff).ref,
        action=f"staff.{what}_failed",
        object_type="staff",
        object_id=staff.id,
        source_ip=ip,
        details={"failures": staff.failed_logins},
    )
    # The caller raises next, which rolls its transaction back: keep the count regardless.
    session.commit()


def _locked_error(staff: StaffMember) -> Forbidden:
    assert staff.locked_until is not None
    wait = max(1, int((staff.locked_until - now()).total_seconds()))
    return Forbidden(
        f"too many failed attempts: try again in {wait} seconds", code="locked", details={"retry_after": wait}
    )


# --- sessions ------------------------------------------------------------------------------


@dataclass
class NewSession:
    row: StaffSession
    token: str


def _new_session(
    session: Session, staff: StaffMember, cfg: StaffSettings, ip: str | None, ua: str | None
) -> NewSession:
    token = secrets.token_urlsafe(32)
    t = now()
    row = StaffSession(
        staff_id=staff.id,
        token_sha256=sha256(token),
        csrf_token=secrets.token_urlsafe(32),
        stage="password",
        created_at=t,
        last_seen_at=t,
        expires_at=t + timedelta(hours=cfg.session_hours),
        ip=ip,
        user_agent=(ua or "")[:300] or None,
    )
    session.add(row)
    session.flush()
    return NewSession(row, token)


def sign_in_password(
    session: Session,
    email: str,
    password: str,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
    config: StaffSettings | None = None,
) -> NewSession:
    """Check email and password; returns a session at stage "password" (TOTP still to do).
    Errors say nothing about which of email or password was wrong."""
    cfg = config or staff_settings()
    staff = session.scalar(select(StaffMember).where(StaffMember.email == email.strip().lower()))
    wrong = Unauthorized("wrong email or password", code="bad_credentials")
    if staff is None or staff.password_hash is None or staff.disabled_at is not None:
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher.verify(_DUMMY_HASH, password)
        raise wrong
    if _is_locked(staff):
        raise _locked_error(staff)
    try:
        _hasher.verify(staff.password_hash, password)
    except (VerificationError, InvalidHashError):
        _fail(session, staff, cfg, "password", ip)
        raise wrong from None
    if _hasher.check_needs_rehash(staff.password_hash):
        staff.password_hash = _hasher.hash(password)
    return _new_session(session, staff, cfg, ip, user_agent)


def resolve_session(
    session: Session, token: str, *, config: StaffSettings | None = None
) -> tuple[StaffSession, StaffMember] | None:
    """The live session and its staff member for a cookie token, or None."""
    cfg = config or staff_settings()
    row = session.scalar(select(StaffSession).where(StaffSession.token_sha256 == sha256(token)))
    if row is None or row.revoked_at is not None:
        return None
    t = now()
    if row.expires_at <= t or row.last_seen_at + timedelta(minutes=cfg.session_idle_minutes) <= t:
        return None
    if row.stage != "full" and row.created_at + PARTIAL_SESSION <= t:
        return None  # password checked but no second factor in time: start again
    staff = session.get(StaffMember, row.staff_id)
    if staff is None or staff.disabled_at is not None:
        return None
    if (t - row.last_seen_at).total_seconds() > 30:
        row.last_seen_at = t
    return row, staff


def revoke_session(session: Session, row: StaffSession) -> None:
    row.revoked_at = now()


def revoke_all_sessions(session: Session, staff_id: str, *, actor: str) -> int:
    """Sign a person out everywhere; returns the number of sessions ended."""
    res = session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    n = int(res.rowcount or 0)  # type: ignore[attr-defined]
    audit(
        session,
        actor=actor,
        action="staff.sign_out_everywhere",
        object_type="staff",
        object_id=staff_id,
        details={"sessions": n},
    )
    return n


def active_sessions(session: Session, staff_id: str) -> list[StaffSession]:
    t = now()
    return list(
        session.scalars(
            select(StaffSession)
            .where(StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None), StaffSession.expires_at > t)
            .order_by(StaffSession.created_at.desc())
        )
    )


# --- TOTP ----------------------------------------------------------------------------------


def begin_enrolment(staff: StaffMember) -> str:
    """A TOTP secret for the person to scan (kept until a first code confirms it)."""
    if staff.totp_enabled_at is not None:
        raise Conflict("two-factor authentication is already set up", code="totp_enrolled")
    if not staff.totp_secret:
        staff.totp_secret = pyotp.random_base32()
    return staff.totp_secret


def provisioning_uri(staff: StaffMember) -> str:
    assert staff.totp_secret
    return pyotp.TOTP(staff.totp_secret).provisioning_uri(name=staff.email, issuer_name=ISSUER)


def qr_svg(data: str) -> str:
    """An inline SVG QR code (no image request, nothing leaves the server)."""
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg: bytes = img.to_string()
    text = svg.decode()
    return text[text.index("<svg") :]


def _totp_ok(staff: StaffMember, code: str) -> bool:
    code = "".join(ch for ch in code if ch.isdigit())
    if not staff.totp_secret or len(code) != 6:
        return False
    totp = pyotp.TOTP(staff.totp_secret)
    t = now().timestamp()
    for drift in (0, -1, 1):
        at = t + drift * totp.interval
        step = int(at // totp.interval)
        if hmac.compare_digest(totp.at(at), code):
            if staff.totp_last_step is not None and step <= staff.totp_last_step:
                return False  # replay of a code already used
            staff.totp_last_step = step
            return True
    return False


def _recovery_ok(session: Session, staff: StaffMember, code: str) -> bool:
    norm = code.strip().lower().replace("-", "").replace(" ", "")
    if len(norm) != 16:
        return False
    row = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.staff_id == staff.id, RecoveryCode.code_sha256 == sha256(norm), RecoveryCode.used_at.is_(None)
        )
    )
    if row is None:
        return False
    row.used_at = now()
    return True


def new_recovery_codes(session: Session, staff: StaffMember) -> list[str]:
    """Replace the recovery codes; returns them once, formatted xxxx-xxxx-xxxx-xxxx."""
    for old in session.scalars(select(RecoveryCode).where(RecoveryCode.staff_id == staff.id)):
        session.delete(old)
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(8)
        session.add(RecoveryCode(staff_id=staff.id, code_sha256=sha256(raw)))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def _second_factor(
    session: Session, row: StaffSession, staff: StaffMember, ok: bool, cfg: StaffSettings, ip: str | None, what: str
) -> None:
    if not ok:
        _fail(session, staff, cfg, what, ip)
        raise Unauthorized("that code is not valid", code="bad_code")
    staff.failed_logins = 0
    staff.locked_until = None
    staff.last_login_at = now()
    row.stage = "full"
    audit(
        session,
        actor=actor_of(staff).ref,
        action="staff.sign_in",
        object_type="staff",
        object_id=staff.id,
        source_ip=ip,
        details={"session": row.id, "factor": what},
    )


def confirm_enrolment(
    session: Session,
    row: StaffSession,
    staff: StaffMember,
    code: str,
    *,
    ip: str | None = None,
    config: StaffSettings | None = None,
) -> list[str]:
    """Verify the first code from the new authenticator; completes sign-in and returns recovery codes."""
    cfg = config or staff_settings()
    if staff.totp_enabled_at is not None:
        raise Conflict("two-factor authentication is already set up", code="totp_enrolled")
    if _is_locked(staff):
        raise _locked_error(staff)
    _second_factor(session, row, staff, _totp_ok(staff, code), cfg, ip, "totp")
    staff.totp_enabled_at = now()
    record_event(session, "staff.totp_enrolled", subject_type="staff", subject_id=staff.id, actor=actor_of(staff).ref)
    return new_recovery_codes(session, staff)


def verify_second_factor(
    session: Session,
    row: StaffSession,
    staff: StaffMember,
    code: str,
    *,
    ip: str | None = None,
    config: StaffSettings | None = None,
) -> str:
    """Check a TOTP code or a recovery code; returns which was used ("totp" or "recovery")."""
    cfg = config or staff_settings()
    if staff.totp_enabled_at is None:
        raise Conflict("set up two-factor authentication first", code="totp_not_enrolled")
    if _is_locked(staff):
        raise _locked_error(staff)
    if _totp_ok(staff, code):
        _second_factor(session, row, staff, True, cfg, ip, "totp")
        return "totp"
    ok = _recovery_ok(session, staff, code)
    _second_factor(session, row, staff, ok, cfg, ip, "recovery")
    return "recovery"


def remaining_recovery_codes(session: Session, staff_id: str) -> int:
    return len(
        list(
            session.scalars(
                select(RecoveryCode.id).where(RecoveryCode.staff_id == staff_id, RecoveryCode.used_at.is_(None))
            )
        )
    )
