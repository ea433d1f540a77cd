"""What youth does with other capabilities' events: re-assurance triggers (an age stated in chat
that contradicts the account's band, an apparent-minor score on an adult's own upload, a
declaration after an assured age), and a review task when an adult's messages to many unconnected
minors are held. Each handler is idempotent per event (dedupe by pending request, signal or task
key), so a retried job changes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from haven.accounts.bands import MINOR_BANDS
from haven.accounts.models import Account, Contact
from haven.classify.conversation.detector import band_of_age
from haven.classify.models import Conversation, ConversationMessage
from haven.core.clock import now
from haven.core.ledger import subscribe
from haven.core.models import Event
from haven.core.settings import get_settings
from haven.review.service import add_or_raise_task
from haven.youth.config import get_config
from haven.youth.models import AgeSignal, Connection
from haven.youth.service import SignalInput, current, record_signal, request_reassurance

ACTOR = "system:youth"
HOLD_RULES = ("youth.unconnected_adult_to_minor", "youth.unconnected_adult_warning")
FAN_OUT_WINDOW = timedelta(days=7)


def _message(session: Session, event: Event) -> ConversationMessage | None:
    mid = str((event.data or {}).get("message_id") or "")
    return session.scalar(
        select(ConversationMessage)
        .where(
            ConversationMessage.conversation_id == event.subject_id,
            or_(ConversationMessage.external_id == mid, ConversationMessage.id == mid),
        )
        .limit(1)
    )


@subscribe("message.received", name="youth-stated-age")
def stated_age_in_chat(session: Session, event: Event) -> None:
    """The conversation detector noticed the sender state an age ("im 13"): kept as an
    `inference` signal (it never sets the band by itself), and when it contradicts the account's
    band (an adult saying they are a minor, or a minor saying they are an adult) the service is
    asked to re-check the account's age."""
    msg = _message(session, event)
    conv = session.get(Conversation, event.subject_id)
    if msg is None or conv is None:
        return
    age = (conv.state or {}).get("stated_ages", {}).get(msg.sender)
    if not isinstance(age, int):
        return
    said = band_of_age(age)
    assured = current(session, msg.sender)
    known = session.scalar(
        select(AgeSignal.id)
        .where(
            AgeSignal.account_id == msg.sender,
            AgeSignal.method == "inference",
            AgeSignal.provider == "haven.conversation",
            AgeSignal.min_age == age,
        )
        .limit(1)
    )
    if known is None:
        record_signal(
            session,
            msg.sender,
            SignalInput(
                method="inference",
                provider="haven.conversation",
                level="asserted",
                observed_at=msg.sent_at,
                over=age,
                under=age + 1,
                evidence_ref=f"conversation:{conv.id}#{msg.turn}",
            ),
            actor=ACTOR,
        )
    claims_minor = said in MINOR_BANDS and assured.age_band == "adult"
    claims_adult = said == "adult" and assured.age_band in MINOR_BANDS
    if claims_minor or claims_adult:
        request_reassurance(
            session,
            msg.sender,
            "age_stated_in_chat",
            f"assured {assured.age_band} ({assured.level}, {assured.method}) but stated an age of {age} in "
            f"conversation {conv.id} (turn {msg.turn})",
            actor=ACTOR,
        )


def _held(d: Mapping[str, Any]) -> bool:
    return d.get("rule") in HOLD_RULES


@subscribe("message.received", name="youth-fan-out", when=_held)
def held_fan_out(session: Session, event: Event) -> None:
    """An adult whose messages to minors outside their connections were held, to many distinct
    minors in a week, goes to the grooming queue (one open task per account, raised not repeated)."""
    if not _held(event.data or {}):
        return
    msg = _message(session, event)
    if msg is None:
        return
    since = now() - FAN_OUT_WINDOW
    minors = set(
        session.scalars(
            select(Contact.recipient).where(
                Contact.sender == msg.sender, Contact.first_at >= since, Contact.recipient_band.in_(MINOR_BANDS)
            )
        )
    )
    connected = (
        set(
            session.scalars(
                select(Connection.account_id).where(
                    Connection.other_id == msg.sender, Connection.account_id.in_(minors)
                )
            )
        )
        if minors
        else set()
    )
    unconnected = sorted(minors - connected)
    limit = get_config().guardians.fan_out_review
    if len(unconnected) < limit:
        return
    add_or_raise_task(
        session,
        queue="grooming",
        subject_type="account",
        subject_id=msg.sender,
        severity=3,
        score=min(1.0, len(unconnected) / (2 * limit)),
        reason=f"messages to {len(unconnected)} minors outside their connections held in 7 days",
        details={
            "category": "grooming",
            "held_minors": len(unconnected),
            "rule": event.data.get("rule"),
            "conversation_id": event.subject_id,
        },
        uploader=msg.sender,
        child_safety=True,
        source_key=f"youth.fan_out:{msg.sender}:{len(unconnected)}",
        actor=ACTOR,
    )


#: Surfaces where an upload shows its own uploader (their apparent age says something about them).
OWN_SURFACES = ("profile", "avatar", "selfie", "own")


def _own_upload_scored(d: Mapping[str, Any]) -> bool:
    return bool(d.get("uploader")) and d.get("surface") in OWN_SURFACES and not d.get("pending_analysis")


@subscribe("content.verdict", name="youth-apparent-minor", when=_own_upload_scored)
def apparent_minor_upload(session: Session, event: Event) -> None:
    """An adult account's own upload scores as an apparent minor: perhaps the account is a child's.

    On the verdict whose classification is done (not `pending_analysis`): with the default
    deferred classifiers the score arrives with a later settlement than the upload's first, and
    reading it at `content.received` found none. Later settlements of the same item ask nothing
    twice (one pending request per account and reason)."""
    from haven.screening.models import ContentItem

    d = event.data or {}
    uploader = str(d.get("uploader") or "")
    item = session.get(ContentItem, event.subject_id)
    if not _own_upload_scored(d) or item is None:
        return
    score = ((item.scores or {}).get("apparent_age") or {}).get("scores", {}).get("minor")
    if not isinstance(score, int | float) or score < get_settings().apparent_minor_threshold:
        return
    acc = session.get(Account, uploader)
    if acc is not None and acc.age_band == "adult":
        request_reassurance(
            session,
            uploader,
            "apparent_minor_upload",
            f"an own upload ({d.get('surface')}) scored apparent minor {score:.2f}",
            actor=ACTOR,
        )


@subscribe("account.age_band_set", name="youth-declared")
def declared_band(session: Session, event: Event) -> None:
    """A band the service declares is kept as a self-declaration signal, so that it counts (and
    can conflict) beside the stronger results."""
    d = event.data or {}
    band = d.get("new")
    if d.get("source") != "declared" or band not in ("under_13", "13_15", "16_17", "adult"):
        return
    n = session.scalar(
        select(func.count())
        .select_from(AgeSignal)
        .where(AgeSignal.account_id == event.subject_id, AgeSignal.evidence_ref == f"event:{event.id}")
    )
    if n:
        return
    record_signal(
        session,
        event.subject_id,
        SignalInput(
            method="self_declaration",
            provider="service",
            level="asserted",
            observed_at=event.created_at,
            age_band=band,
            evidence_ref=f"event:{event.id}",
        ),
        actor=ACTOR,
    )
