"""Terms of service: versions (Markdown, effective dates, a public URL each) and acceptances.

Publishing a version records `tos.published`; enforcement turns it into a `tos.updated` webhook
so the service can tell its users before the version takes effect.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haven.accounts.models import Account
from haven.core.clock import now
from haven.core.errors import Conflict, Invalid, NotFound
from haven.core.ledger import audit, record_event
from haven.terms.models import TermsAcceptance, TermsVersion

DEFAULT_VERSION = "1"
DEFAULT_EFFECTIVE = datetime(2026, 1, 1, tzinfo=UTC)


def public_url(base: str, version: str) -> str:
    return f"{base.rstrip('/')}/terms/{version}"


def ensure_default(session: Session) -> None:
    """Publish the terms shipped with Haven when none exist, so a fresh install has terms."""
    if session.scalar(select(TermsVersion.id).limit(1)) is not None:
        return
    text = resources.files("haven.terms").joinpath("defaults/terms-1.md").read_text()
    try:
        with session.begin_nested():  # two first requests at once: one inserts, the other reads
            publish(
                session,
                version=DEFAULT_VERSION,
                markdown=text,
                effective_at=DEFAULT_EFFECTIVE,
                title="Terms of service",
                summary="The terms shipped with Haven.",
                actor="system:haven",
                default=True,
            )
    except (IntegrityError, Conflict):
        pass


def publish(
    session: Session,
    *,
    version: str,
    markdown: str,
    effective_at: datetime,
    title: str,
    summary: str = "",
    actor: str,
    default: bool = False,
) -> TermsVersion:
    """Publish a new version; it applies from `effective_at` (which may be in the future)."""
    if effective_at.tzinfo is None:
        raise Invalid("effective_at needs a timezone", code="invalid_effective_at")
    if not markdown.strip():
        raise Invalid("the terms are empty", code="empty_terms")
    if session.scalar(select(TermsVersion).where(TermsVersion.version == version)) is not None:
        raise Conflict(f"terms version '{version}' exists; versions are never changed", code="terms_version_exists")
    row = TermsVersion(
        version=version, title=title, markdown=markdown, summary=summary, effective_at=effective_at, published_by=actor
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        "tos.published",
        subject_type="terms",
        subject_id=version,
        actor=actor,
        data={"version": version, "effective_at": effective_at.isoformat(), "summary": summary, "default": default},
    )
    audit(session, actor=actor, action="terms.publish", object_type="terms", object_id=version)
    return row


def get(session: Session, version: str) -> TermsVersion:
    ensure_default(session)
    row = session.scalar(select(TermsVersion).where(TermsVersion.version == version))
    if row is None:
        raise NotFound(f"no terms version '{version}'", code="terms_not_found")
    return row


def current(session: Session, at: datetime | None = None) -> TermsVersion:
    """The version in effect at `at` (now by default)."""
    ensure_default(session)
    row = session.scalar(
        select(TermsVersion)
        .where(TermsVersion.effective_at <= (at or now()))
        .order_by(TermsVersion.effective_at.desc(), TermsVersion.published_at.desc())
        .limit(1)
    )
    if row is None:
        raise NotFound("no terms are in effect yet", code="terms_not_found")
    return row


def all_versions(session: Session) -> list[TermsVersion]:
    ensure_default(session)
    return list(session.scalars(select(TermsVersion).order_by(TermsVersion.effective_at)))


def accept(
    session: Session, *, account_id: str, version: str, accepted_at: datetime | None, integration_id: str, actor: str
) -> tuple[TermsAcceptance, bool]:
    """Record that an account accepted a version; returns (row, created). Repeating is harmless."""

    get(session, version)
    stamp = accepted_at or now()
    if stamp.tzinfo is None:
        raise Invalid("accepted_at needs a timezone", code="invalid_accepted_at")
    if stamp > now():
        raise Invalid("accepted_at is in the future", code="invalid_accepted_at")
    existing = session.scalar(
        select(TermsAcceptance).where(TermsAcceptance.account_id == account_id, TermsAcceptance.version == version)
    )
    if existing is not None:
        return existing, False
    if session.get(Account, account_id) is None:
        session.add(Account(id=account_id))
    row = TermsAcceptance(account_id=account_id, version=version, accepted_at=stamp, integration_id=integration_id)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict("this acceptance was just recorded", code="acceptance_exists") from None
    record_event(
        session,
        "tos.accepted",
        subject_type="account",
        subject_id=account_id,
        actor=actor,
        data={"version": version, "accepted_at": stamp.isoformat()},
    )
    return row, True


def acceptances(session: Session, account_id: str) -> list[TermsAcceptance]:
    return list(
        session.scalars(
            select(TermsAcceptance)
            .where(TermsAcceptance.account_id == account_id)
            .order_by(TermsAcceptance.accepted_at)
        )
    )
