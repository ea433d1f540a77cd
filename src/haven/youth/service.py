"""Youth: storing age signals, deriving the assured age, re-assurance requests, the social graph,
and the protections that follow, all in the caller's transaction with their events and webhooks.

Every change of state is a ledger event; what the service must act on also leaves as a signed
webhook through the enforcement outbox (`age.reassurance_requested`, `youth.protections_changed`)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from haven.accounts.bands import AGE_BANDS, level_rank
from haven.accounts.models import Account
from haven.accounts.service import ensure_accounts, set_age_band
from haven.core.clock import new_id, now
from haven.core.errors import Invalid
from haven.core.ledger import record_event
from haven.enforce.webhooks import deliver
from haven.youth.assurance import (
    Assured,
    SignalView,
    band_of_range,
    band_range,
    derive,
    effective_level,
    expiry,
    is_valid,
    threshold_range,
)
from haven.youth.config import METHODS, YouthConfig, get_config
from haven.youth.models import AgeSignal, AssuredAge, Connection, ProtectionOverride, ReassuranceRequest
from haven.youth.protections import Protections, protections

#: Future observation times beyond this are refused (a clock skew, or a made-up result).
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class SignalInput:
    """An age signal as the service, an adapter or Haven itself gives it (already parsed)."""

    method: str
    provider: str
    level: str
    observed_at: datetime
    age_band: str | None = None
    over: int | None = None
    under: int | None = None
    expires_at: datetime | None = None
    evidence_ref: str | None = None


def _range(sig: SignalInput) -> tuple[int, int | None]:
    if sig.age_band is not None:
        if sig.over is not None or sig.under is not None:
            raise Invalid("give either age_band or over/under, not both", code="invalid_age_result")
        if sig.age_band not in AGE_BANDS or sig.age_band == "unknown":
            raise Invalid(
                f"age_band must be one of {', '.join(b for b in AGE_BANDS if b != 'unknown')}", code="invalid_age_band"
            )
        return band_range(sig.age_band)
    if sig.over is None and sig.under is None:
        raise Invalid("an age signal needs age_band, or over/under a threshold", code="invalid_age_result")
    lo, hi = threshold_range(sig.over, sig.under)
    if hi is not None and hi < lo:
        raise Invalid("over and under leave no possible age", code="invalid_age_result")
    return lo, hi


def check_signal(cfg: YouthConfig, sig: SignalInput, at: datetime) -> tuple[int, int | None]:
    """Refuse what must not be stored (unknown method, expired, from the future); the age range."""
    if sig.method not in METHODS or cfg.method(sig.method) is None:
        raise Invalid(
            f"unknown method '{sig.method}'; known: {', '.join(cfg.assurance.methods)}", code="unknown_method"
        )
    if sig.observed_at > at + CLOCK_SKEW:
        raise Invalid("observed_at is in the future", code="observed_in_future")
    rng = _range(sig)
    view = SignalView("-", sig.method, sig.provider, sig.level, rng[0], rng[1], sig.observed_at, sig.expires_at)
    if not is_valid(cfg, view, at):
        raise Invalid("this age signal has expired (its expires_at, or its method's validity)", code="signal_expired")
    return rng


def signal_views(session: Session, account_id: str) -> list[SignalView]:
    rows = session.scalars(select(AgeSignal).where(AgeSignal.account_id == account_id).order_by(AgeSignal.id))
    return [
        SignalView(r.id, r.method, r.provider, r.level, r.min_age, r.max_age, r.observed_at, r.expires_at) for r in rows
    ]


def record_signal(session: Session, account_id: str, sig: SignalInput, *, actor: str) -> tuple[AgeSignal, Assured]:
    """Store one age result (after `check_signal`) and re-derive the account's assured age."""
    cfg = get_config()
    at = now()
    lo, hi = check_signal(cfg, sig, at)
    ensure_accounts(session, [account_id])
    row = AgeSignal(
        id=new_id(),
        account_id=account_id,
        method=sig.method,
        provider=sig.provider,
        level=sig.level,
        min_age=lo,
        max_age=hi,
        age_band=band_of_range(lo, hi),
        observed_at=sig.observed_at,
        expires_at=sig.expires_at,
        evidence_ref=sig.evidence_ref,
        received_at=at,
        actor=actor,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        "age.signal_received",
        subject_type="account",
        subject_id=account_id,
        actor=actor,
        data={
            "signal_id": row.id,
            "method": row.method,
            "provider": row.provider,
            "level": effective_level(cfg, row.method, row.level),
            "age_band": row.age_band,
        },
    )
    assured = reassess(session, account_id, actor=actor)
    if level_rank(effective_level(cfg, sig.method, sig.level)) >= level_rank("standard") and not assured.reassure:
        _resolve_reassurance(session, account_id, at)
    return row, assured


def current(session: Session, account_id: str) -> Assured:
    """The stored assured age (or, for an account no signal ever reached, its declared band at
    level "asserted" by self-declaration; "unknown"/"none" when nothing was declared)."""
    row = session.get(AssuredAge, account_id)
    if row is not None:
        return Assured(row.age_band, row.level, row.method, row.since, list(row.why or []))
    acc = session.get(Account, account_id)
    if acc is None or acc.age_band == "unknown":
        return Assured("unknown", "none", None, None, ["no age signal and no declared band"])
    return Assured(
        acc.age_band, "asserted", "self_declaration", acc.updated_at, ["declared by the service (PUT /v1/accounts)"]
    )


def reassess(session: Session, account_id: str, *, actor: str) -> Assured:
    """Derive the assured age again; store it, tell of a change (event, protections webhook), and
    ask for re-assurance when signals conflict. A staff override stands until a newer signal."""
    cfg = get_config()
    row = session.get(AssuredAge, account_id)
    signals = signal_views(session, account_id)
    if (
        row is not None
        and row.override_by
        and not any(s.observed_at > row.updated_at or _received_after(session, s.id, row.updated_at) for s in signals)
    ):
        return current(session, account_id)
    before = current(session, account_id)
    before_prot = protections_for(session, account_id)
    assured = derive(cfg, signals, now())
    if row is None:
        row = AssuredAge(account_id=account_id)
        session.add(row)
    row.age_band, row.level, row.method, row.since, row.why = (
        assured.age_band,
        assured.level,
        assured.method,
        assured.since,
        assured.why,
    )
    row.override_by = row.override_reason = None
    session.flush()
    _sync_account(session, account_id, assured, actor)
    if (before.age_band, before.level, before.method) != (assured.age_band, assured.level, assured.method):
        record_event(
            session,
            "age.assured",
            subject_type="account",
            subject_id=account_id,
            actor=actor,
            data={
                "age_band": assured.age_band,
                "level": assured.level,
                "method": assured.method,
                "previous_band": before.age_band,
                "previous_level": before.level,
            },
        )
    if assured.reassure:
        request_reassurance(
            session,
            account_id,
            "inconsistent_signals",
            "; ".join(w for w in assured.why if "conflicts" in w),
            actor=actor,
        )
    tell_protections(session, account_id, before_prot, actor=actor)
    return assured


def _received_after(session: Session, signal_id: str, at: datetime) -> bool:
    sig = session.get(AgeSignal, signal_id)
    return sig is not None and sig.received_at > at


def _sync_account(session: Session, account_id: str, assured: Assured, actor: str) -> None:
    """The account's band (what detectors, priorities and rules read) follows an assured age
    established by more than a self-declaration."""
    if assured.method in (None, "self_declaration"):
        return
    acc = session.get(Account, account_id)
    if acc is None or acc.age_band != assured.age_band or acc.age_source != "assured":
        set_age_band(session, account_id, assured.age_band, actor=actor, source="assured")


def request_reassurance(
    session: Session, account_id: str, code: str, reason: str, *, actor: str, required_level: str | None = None
) -> ReassuranceRequest | None:
    """Ask the service to re-check this account (`age.reassurance_requested` event and webhook);
    one pending request per account and reason (None when one is already pending)."""
    pending = session.scalar(
        select(ReassuranceRequest).where(
            ReassuranceRequest.account_id == account_id,
            ReassuranceRequest.reason_code == code,
            ReassuranceRequest.status == "pending",
        )
    )
    if pending is not None:
        return None
    req = ReassuranceRequest(
        id=new_id(),
        account_id=account_id,
        reason_code=code,
        reason=reason[:500],
        required_level=required_level,
        status="pending",
        created_at=now(),
    )
    session.add(req)
    session.flush()
    data = {"request_id": req.id, "reason_code": code, "reason": req.reason, "required_level": required_level}
    ev = record_event(
        session, "age.reassurance_requested", subject_type="account", subject_id=account_id, actor=actor, data=data
    )
    deliver(
        session,
        "age.reassurance_requested",
        {"account_id": account_id, **data, "event_id": ev.id},
        subject_type="account",
        subject_id=account_id,
        actor=actor,
        idempotency_key=f"age.reassurance_requested:{req.id}",
    )
    return req


def _resolve_reassurance(session: Session, account_id: str, at: datetime) -> None:
    for req in session.scalars(
        select(ReassuranceRequest).where(
            ReassuranceRequest.account_id == account_id, ReassuranceRequest.status == "pending"
        )
    ):
        if req.created_at <= at:
            req.status, req.resolved_at = "resolved", at


# --- protections -------------------------------------------------------------------------------


def overrides_of(session: Session, account_id: str) -> dict[str, Any]:
    return {
        o.setting: o.value
        for o in session.scalars(select(ProtectionOverride).where(ProtectionOverride.account_id == account_id))
    }


def protections_for(session: Session, account_id: str, region: str | None = None) -> Protections:
    return protections(get_config(), current(session, account_id), region, overrides_of(session, account_id))


def tell_protections(session: Session, account_id: str, before: Protections, *, actor: str) -> Protections:
    """If the settings changed since `before`, record it and send `youth.protections_changed`."""
    after = protections_for(session, account_id)
    changed = sorted(k for k in after.settings if after.settings[k] != before.settings.get(k))
    if changed or after.profile != before.profile:
        data = {"age_band": after.age_band, "profile": after.profile, "settings": after.settings, "changed": changed}
        ev = record_event(
            session, "youth.protections_changed", subject_type="account", subject_id=account_id, actor=actor, data=data
        )
        deliver(
            session,
            "youth.protections_changed",
            {"account_id": account_id, **data, "event_id": ev.id},
            subject_type="account",
            subject_id=account_id,
            actor=actor,
            idempotency_key=f"youth.protections_changed:{ev.id}",
        )
    return after


# --- the social graph --------------------------------------------------------------------------


def set_connection(session: Session, account_id: str, other: str, kind: str, *, actor: str) -> bool:
    if account_id == other:
        raise Invalid("an account is not its own connection", code="invalid_connection")
    ensure_accounts(session, [account_id, other])
    row = session.get(Connection, (account_id, other))
    if row is not None and row.kind == kind:
        return False
    if row is None:
        session.add(Connection(account_id=account_id, other_id=other, kind=kind, created_at=now()))
    else:
        row.kind = kind
    record_event(
        session,
        "youth.connection_set",
        subject_type="account",
        subject_id=account_id,
        actor=actor,
        data={"other": other, "kind": kind},
    )
    return True


def remove_connection(session: Session, account_id: str, other: str, *, actor: str) -> bool:
    row = session.get(Connection, (account_id, other))
    if row is None:
        return False
    kind = row.kind
    session.delete(row)
    record_event(
        session,
        "youth.connection_removed",
        subject_type="account",
        subject_id=account_id,
        actor=actor,
        data={"other": other, "kind": kind},
    )
    return True


def recipient_facts(session: Session, sender: str, recipients: list[str]) -> tuple[list[str], list[bool]]:
    """For the message rules, per recipient: the assurance level of its band, and whether the
    sender is among its connections. Two indexed reads, whatever the number of recipients."""
    assured = {
        r.account_id: r.level for r in session.scalars(select(AssuredAge).where(AssuredAge.account_id.in_(recipients)))
    }
    declared = {a.id: a.age_band for a in session.scalars(select(Account).where(Account.id.in_(recipients)))}
    connected = set(
        session.scalars(
            select(Connection.account_id).where(Connection.account_id.in_(recipients), Connection.other_id == sender)
        )
    )
    levels = [assured.get(r) or ("asserted" if declared.get(r, "unknown") != "unknown" else "none") for r in recipients]
    return levels, [r in connected for r in recipients]


def purge(session: Session, account_id: str) -> int:
    """Delete an account's age signals and assured age (staff purge); the count of signals."""
    n = len(signal_views(session, account_id))
    session.execute(delete(AgeSignal).where(AgeSignal.account_id == account_id))
    session.execute(delete(AssuredAge).where(AssuredAge.account_id == account_id))
    return n


def purge_expired(session: Session, *, actor: str = "system:youth", keep: Collection[str] = ()) -> int:
    """Delete signals past their validity by more than `assurance.retention_days` (the configured
    retention), re-deriving the accounts they belonged to; the number deleted. Accounts in `keep`
    (under a legal hold, an open law-enforcement request or a preserved report: the retention
    sweep passes them) keep their signals: an age result may be what a report or request needs."""
    cfg = get_config()
    at = now()
    cutoff = at - timedelta(days=cfg.assurance.retention_days)
    gone: dict[str, int] = {}
    for r in session.scalars(select(AgeSignal).where(AgeSignal.observed_at < cutoff)):
        if r.account_id in keep:
            continue
        view = SignalView(r.id, r.method, r.provider, r.level, r.min_age, r.max_age, r.observed_at, r.expires_at)
        end = expiry(cfg, view)
        if end is not None and end < cutoff:
            session.delete(r)
            gone[r.account_id] = gone.get(r.account_id, 0) + 1
    session.flush()
    for account_id in gone:
        reassess(session, account_id, actor=actor)
    return sum(gone.values())
