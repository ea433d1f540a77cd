"""Staff accounts and sign-in: argon2id passwords, mandatory TOTP with recovery codes,
server-side sessions (so "sign out everywhere" works), lockout with back-off.

Pure of the web layer: the console's pages call these functions and set cookies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Table, case, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from haven.core.actors import ROLES, Actor
from haven.core.clock import now
from haven.core.errors import Conflict, Forbidden, HavenError, Invalid, NotFound, Unauthorized
from haven.core.ledger import audit, record_event
from haven.staff import secrets as sealing
from haven.staff.config import StaffSettings, staff_settings
from haven.staff.models import RecoveryCode, SignInThrottle, StaffMember, StaffSession

_hasher = PasswordHasher()
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


# --- lockout and rate limits ------------------------------------------------------------------
#
# Failures are counted per (e-mail, source address) pair in `SignInThrottle`, for e-mails that
# exist and e-mails that do not alike, so a lockout neither reveals which e-mails exist nor lets
# anyone lock a staff member out by knowing the e-mail (their own address is a different pair).
# An attempt is *reserved* (counted) by one conditional UPDATE before the password or code is
# checked and given back when it was right: concurrent attempts cannot overshoot the limit (the
# row lock orders them on PostgreSQL, BEGIN IMMEDIATE on SQLite). The password hash runs after
# that transaction committed, so it never holds SQLite's write lock.


class RateLimited(HavenError):
    status_code = 429
    code = "rate_limited"


class Busy(HavenError):
    status_code = 503
    code = "busy"


class _Window:
    """Attempts per key in a sliding minute (in memory, per process)."""

    def __init__(self) -> None:
        self.hits: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def hit(self, key: str, limit: int, period: float = 60.0) -> float | None:
        """Count an attempt; returns the seconds to wait instead when `limit` is reached."""
        if limit <= 0:
            return None
        t = time.monotonic()
        with self.lock:
            q = self.hits.setdefault(key, deque())
            while q and q[0] <= t - period:
                q.popleft()
            if len(q) >= limit:
                return q[0] + period - t
            q.append(t)
            if len(self.hits) > 50_000:  # forget idle keys (a spread of addresses or e-mails)
                for k in [k for k, v in self.hits.items() if not v or v[-1] <= t - period]:
                    del self.hits[k]
            return None


_per_ip = _Window()
_per_account = _Window()
_slots: dict[int, threading.BoundedSemaphore] = {}
_dummy: dict[int, str] = {}


def reset_rate_limits() -> None:
    """Forget every rate-limit window (tests; a restart does the same)."""
    _per_ip.hits.clear()
    _per_account.hits.clear()


def _rate_limited(wait: float) -> RateLimited:
    w = max(1, int(wait + 0.999))
    return RateLimited(
        f"too many sign-in attempts: try again in {w} seconds", code="rate_limited", details={"retry_after": w}
    )


def _throttle_key(email: str, ip: str | None) -> str:
    return sha256(f"{email.strip().lower()}\n{ip or '-'}")


def _locked_error(until: datetime | None) -> Forbidden:
    wait = max(1, int(((until or now()) - now()).total_seconds() + 0.999))
    return Forbidden(
        f"too many failed attempts: try again in {wait} seconds", code="locked", details={"retry_after": wait}
    )


_T = cast(Table, SignInThrottle.__table__)
_S = cast(Table, StaffMember.__table__)
_R = cast(Table, RecoveryCode.__table__)


def _ensure_throttle(session: Session, key: str) -> datetime | None:
    """Create the pair's row when missing (race-free on both engines); returns when a sign-in
    last completed from it."""
    dialect = session.get_bind().dialect.name
    ins_mod: Any = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        ins_mod(_T).values(key=key, failures=0, updated_at=now()).on_conflict_do_nothing(index_elements=["key"])
    )
    return session.scalar(select(SignInThrottle.succeeded_at).where(SignInThrottle.key == key))


def _reserve(session: Session, key: str, cfg: StaffSettings) -> int:
    """Count one attempt of the pair before checking it; raises `locked` when it is locked.
    From `lockout_after` attempts on, the pair locks for a doubling period."""
    t = now()
    n = session.execute(
        update(_T)
        .where(_T.c.key == key, or_(_T.c.locked_until.is_(None), _T.c.locked_until <= t))
        .values(failures=_T.c.failures + 1, updated_at=t)
        .returning(_T.c.failures)
    ).scalar_one_or_none()
    if n is None:
        until = session.scalar(select(_T.c.locked_until).where(_T.c.key == key))
        session.commit()
        raise _locked_error(until)
    over = n - cfg.lockout_after
    if over >= 0:
        seconds = min(cfg.lockout_max_seconds, cfg.lockout_base_seconds * (2 ** min(over, 30)))
        session.execute(update(_T).where(_T.c.key == key).values(locked_until=t + timedelta(seconds=seconds)))
    return int(n)


def _give_back(session: Session, key: str, cfg: StaffSettings) -> None:
    """The reserved attempt was right: it does not count (nor does the lock it may have set)."""
    session.execute(
        update(_T)
        .where(_T.c.key == key)
        .values(
            failures=case((_T.c.failures > 0, _T.c.failures - 1), else_=0),
            locked_until=case((_T.c.failures - 1 < cfg.lockout_after, None), else_=_T.c.locked_until),
        )
    )


def _signed_in(session: Session, staff: StaffMember, ip: str | None, cfg: StaffSettings) -> None:
    """A sign-in completed from `ip`: the pair's count starts again and the source is trusted."""
    t = now()
    key = _throttle_key(staff.email, ip)
    _ensure_throttle(session, key)
    session.execute(update(_T).where(_T.c.key == key).values(failures=0, locked_until=None, succeeded_at=t))
    # Forget pairs idle for longer than a source stays trusted (unknown e-mails, old addresses).
    session.execute(delete(_T).where(_T.c.updated_at < t - timedelta(days=cfg.trusted_source_days), _T.c.key != key))


def _fail(session: Session, staff: StaffMember | None, failures: int, what: str, ip: str | None) -> None:
    """Record a failure (the reservation already counted it) and commit, since the caller raises
    next and its transaction rolls back."""
    if staff is not None:
        session.execute(update(_S).where(_S.c.id == staff.id).values(failed_logins=_S.c.failed_logins + 1))
        audit(
            session,
            actor=actor_of(staff).ref,
            action=f"staff.{what}_failed",
            object_type="staff",
            object_id=staff.id,
            source_ip=ip,
            details={"failures": failures},
        )
    session.commit()


def _dummy_hash() -> str:
    """A hash with the current parameters to verify against when the e-mail is unknown, so an
    unknown e-mail is answered in the time a known one is."""
    h = _dummy.get(id(_hasher))
    if h is None:
        h = _dummy[id(_hasher)] = _hasher.hash(secrets.token_urlsafe(16))
    return h


def _verify_password(hash_: str, password: str, cfg: StaffSettings) -> bool:
    slots = _slots.get(cfg.sign_in_hash_slots)
    if slots is None:
        slots = _slots.setdefault(cfg.sign_in_hash_slots, threading.BoundedSemaphore(max(1, cfg.sign_in_hash_slots)))
    if not slots.acquire(timeout=cfg.sign_in_hash_wait_seconds):
        raise Busy("sign-in is busy: try again in a few seconds", code="busy", details={"retry_after": 5})
    try:
        _hasher.verify(hash_, password)
        return True
    except (VerificationError, InvalidHashError):
        return False
    finally:
        slots.release()


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


def rotate_session_token(session: Session, row: StaffSession) -> str:
    """A new cookie token (and CSRF token) for a session whose sign-in just completed: a token
    seen before the second factor (planted, or read from a shared machine) stops working."""
    token = secrets.token_urlsafe(32)
    row.token_sha256 = sha256(token)
    row.csrf_token = secrets.token_urlsafe(32)
    session.flush()
    return token


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
    Errors say nothing about which of email or password was wrong, nor whether the e-mail
    exists. Commits `session` before hashing (argon2 never runs inside a write transaction)."""
    cfg = config or staff_settings()
    email = email.strip().lower()
    if ip is not None and (wait := _per_ip.hit(ip, cfg.sign_in_per_ip_per_minute)) is not None:
        raise _rate_limited(wait)
    key = _throttle_key(email, ip)
    succeeded_at = _ensure_throttle(session, key)
    trusted = succeeded_at is not None and succeeded_at > now() - timedelta(days=cfg.trusted_source_days)
    if not trusted and (wait := _per_account.hit(email, cfg.sign_in_per_account_per_minute)) is not None:
        session.commit()
        raise _rate_limited(wait)
    failures = _reserve(session, key, cfg)
    staff = session.scalar(select(StaffMember).where(StaffMember.email == email))
    usable = staff is not None and staff.password_hash is not None and staff.disabled_at is None
    target = staff.password_hash if usable and staff is not None and staff.password_hash else _dummy_hash()
    session.commit()  # end the write transaction before the expensive hash
    ok = _verify_password(target, password, cfg) and usable
    if not ok or staff is None:
        _fail(session, staff if usable else None, failures, "password", ip)
        raise Unauthorized("wrong email or password", code="bad_credentials")
    if staff.password_hash and _hasher.check_needs_rehash(staff.password_hash):
        staff.password_hash = _hasher.hash(password)
    _give_back(session, key, cfg)
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


def totp_secret(staff: StaffMember) -> str | None:
    """The person's TOTP secret, unsealed (it is stored sealed, `haven.staff.secrets`)."""
    return sealing.unseal(staff.id, staff.totp_secret) if staff.totp_secret else None


def begin_enrolment(staff: StaffMember) -> str:
    """A TOTP secret for the person to scan (kept, sealed, until a first code confirms it)."""
    if staff.totp_enabled_at is not None:
        raise Conflict("two-factor authentication is already set up", code="totp_enrolled")
    secret = totp_secret(staff)
    if not secret:
        secret = pyotp.random_base32()
        staff.totp_secret = sealing.seal(staff.id, secret)
    return secret


def provisioning_uri(staff: StaffMember) -> str:
    secret = totp_secret(staff)
    assert secret
    return pyotp.TOTP(secret).provisioning_uri(name=staff.email, issuer_name=ISSUER)


def qr_svg(data: str) -> str:
    """An inline SVG QR code (no image request, nothing leaves the server)."""
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg: bytes = img.to_string()
    text = svg.decode()
    return text[text.index("<svg") :]


def _totp_ok(session: Session, staff: StaffMember, code: str) -> bool:
    """Whether `code` is the current (or an adjacent) TOTP code not used before. The step is
    claimed by one conditional UPDATE, so of concurrent submissions of one code exactly one wins."""
    code = "".join(ch for ch in code if ch.isdigit())
    secret = totp_secret(staff)
    if not secret or len(code) != 6:
        return False
    totp = pyotp.TOTP(secret)
    t = now().timestamp()
    for drift in (0, -1, 1):
        at = t + drift * totp.interval
        step = int(at // totp.interval)
        if hmac.compare_digest(totp.at(at), code):
            cols = _S.c
            res = session.execute(
                update(_S)
                .where(cols.id == staff.id, or_(cols.totp_last_step.is_(None), cols.totp_last_step < step))
                .values(totp_last_step=step)
            )
            if int(res.rowcount or 0) != 1:  # type: ignore[attr-defined]
                return False  # replay of a code already used (here or in a concurrent request)
            set_committed_value(staff, "totp_last_step", step)
            return True
    return False


def _recovery_ok(session: Session, staff: StaffMember, code: str) -> bool:
    norm = code.strip().lower().replace("-", "").replace(" ", "")
    if len(norm) != 16:
        return False
    cols = _R.c
    res = session.execute(
        update(_R)
        .where(cols.staff_id == staff.id, cols.code_sha256 == sha256(norm), cols.used_at.is_(None))
        .values(used_at=now())
    )
    return int(res.rowcount or 0) == 1  # type: ignore[attr-defined]


def reseal_totp_secrets(session: Session) -> int:
    """Seal every TOTP secret under the current key (after a key rotation); returns how many
    changed."""
    n = 0
    for staff in session.scalars(select(StaffMember).where(StaffMember.totp_secret.is_not(None))):
        assert staff.totp_secret
        new = sealing.reseal(staff.id, staff.totp_secret)
        if new is not None:
            staff.totp_secret = new
            n += 1
    return n


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
    session: Session,
    row: StaffSession,
    staff: StaffMember,
    check: Callable[[], str | None],
    cfg: StaffSettings,
    ip: str | None,
    what: str,
) -> str:
    """Reserve an attempt of the (e-mail, address) pair, run `check` (the factor that matched,
    or None), and complete sign-in or count the failure (audited as `staff.<what>_failed`)."""
    key = _throttle_key(staff.email, ip)
    _ensure_throttle(session, key)
    failures = _reserve(session, key, cfg)
    factor = check()
    if factor is None:
        _fail(session, staff, failures, what, ip)
        raise Unauthorized("that code is not valid", code="bad_code")
    _signed_in(session, staff, ip, cfg)
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
        details={"session": row.id, "factor": factor},
    )
    return factor


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
    _second_factor(session, row, staff, lambda: "totp" if _totp_ok(session, staff, code) else None, cfg, ip, "totp")
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

    def check() -> str | None:
        if _totp_ok(session, staff, code):
            return "totp"
        return "recovery" if _recovery_ok(session, staff, code) else None

    return _second_factor(session, row, staff, check, cfg, ip, "recovery")


def remaining_recovery_codes(session: Session, staff_id: str) -> int:
    return len(
        list(
            session.scalars(
                select(RecoveryCode.id).where(RecoveryCode.staff_id == staff_id, RecoveryCode.used_at.is_(None))
            )
        )
    )
