"""Intake of messages: relationship signals, the conversation's per-turn detector update, and a
verdict decided by the policy rules (allow, hold or block, with the flag, nudge and preserve
actions that rules ask for), all in the caller's transaction.

Messages are kept (with their text) so that a flagged conversation is preserved whole for
review and reporting; see docs/classifiers.md on retention of conversations never flagged.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haven.accounts.bands import MINOR_BANDS
from haven.accounts.models import Block, Contact
from haven.accounts.service import ensure_accounts
from haven.classify.conversation import ConversationState, Detector, MessageContext, is_minor
from haven.classify.conversation.detector import TurnResult
from haven.classify.interventions import conversation_priority, nudge_message
from haven.classify.models import Conversation, ConversationMessage, MessageAttachment
from haven.classify.state_store import load_state, store_state
from haven.core.clock import new_id, now
from haven.core.errors import Conflict, Invalid
from haven.core.ledger import record_event
from haven.policy import ConversationView, Decision, PolicyInput
from haven.screening.models import ContentItem
from haven.screening.rulesets import decide
from haven.youth.service import recipient_facts

FAN_OUT_WINDOW = timedelta(days=7)


class Attachment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_id: str | None = Field(None, max_length=26, description="id returned by POST /v1/content")
    media_kind: str | None = Field(None, max_length=16)
    sha256: str | None = Field(None, min_length=64, max_length=64)


class MessageIn(BaseModel):
    """`POST /v1/messages`."""

    model_config = ConfigDict(extra="forbid")

    message_id: str | None = Field(None, max_length=200, description="the service's id of the message")
    conversation_id: str = Field(min_length=1, max_length=200)
    sender: str = Field(min_length=1, max_length=200)
    recipients: list[str] = Field(min_length=1, max_length=1000)
    text: str = Field("", max_length=20_000)
    sent_at: datetime | None = None
    attachments: list[Attachment] = Field(default_factory=list, max_length=50)
    connected: bool | None = Field(None, description="the service's view: are sender and recipients connections?")

    @field_validator("sent_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("sent_at needs a timezone (ISO 8601 with Z or an offset)")
        return v

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, v: list[str]) -> list[str]:
        if any(not r or len(r) > 200 for r in v):
            raise ValueError("each recipient is a non-empty account id of at most 200 characters")
        return v


def _context(session: Session, body: MessageIn, bands: dict[str, str], stamp: datetime) -> MessageContext:
    sender_band = bands[body.sender]
    recipients = [r for r in body.recipients if r != body.sender]
    first = False
    for r in recipients:
        row = session.get(Contact, (body.sender, r))
        if row is None:
            first = True
            session.add(
                Contact(
                    sender=body.sender, recipient=r, first_at=stamp, last_at=stamp, messages=1, recipient_band=bands[r]
                )
            )
        else:
            row.last_at = stamp
            row.messages += 1
            row.recipient_band = bands[r]
    session.flush()
    fan_out = 0
    to_minor = any(is_minor(bands[r]) for r in recipients)
    if to_minor and not is_minor(sender_band):
        fan_out = int(
            session.scalar(
                select(func.count())
                .select_from(Contact)
                .where(
                    Contact.sender == body.sender,
                    Contact.first_at >= stamp - FAN_OUT_WINDOW,
                    Contact.recipient_band.in_(MINOR_BANDS),
                )
            )
            or 0
        )
    after_block = (
        session.scalar(
            select(Block.blocker).where(Block.blocked == body.sender, Block.blocker.in_(recipients)).limit(1)
        )
        is not None
    )
    return MessageContext(
        attachments=len(body.attachments),
        sender_band=sender_band,
        recipient_bands=[bands[r] for r in recipients],
        recipient_ids=recipients,
        first_contact=first,
        connected=body.connected,
        fan_out_minors=fan_out,
        after_block=after_block,
    )


def _attachments(session: Session, integration_id: str, body: MessageIn, message_row_id: str) -> list[dict[str, Any]]:
    """The message's attachments, with the verdict and new-material priority of those Haven has seen
    (sent to `POST /v1/content` first), so a reviewer of the conversation sees them together. Each
    item Haven holds is also linked to the message (`message_attachments`): the indexed way back
    from a file under review to the conversation it was sent in."""
    out = []
    linked: set[str] = set()
    for a in body.attachments:
        d: dict[str, Any] = a.model_dump(exclude_none=True)
        item = session.get(ContentItem, a.content_id) if a.content_id else None
        if item is not None and item.integration_id == integration_id:
            nm = (item.scores or {}).get("new_material", {}).get("details", {})
            d.update(
                media_kind=item.media_kind, verdict=item.verdict, priority=nm.get("level"), labels=nm.get("labels", [])
            )
            if item.id not in linked:
                linked.add(item.id)
                session.add(MessageAttachment(message_id=message_row_id, content_id=item.id))
        out.append(d)
    return out


def record_message(
    session: Session, detector: Detector, *, integration_id: str, actor: str, body: MessageIn
) -> dict[str, Any]:
    """Update the conversation with one message and answer with its grooming and sextortion state."""
    if body.sender in body.recipients and len(set(body.recipients)) == 1:
        raise Invalid("a message needs at least one recipient other than its sender", code="invalid_recipients")
    stamp = now()
    # A send time in the future (a skewed client clock) is clamped to when Haven received it.
    sent_at = min(body.sent_at, stamp) if body.sent_at else stamp
    accounts = ensure_accounts(session, [body.sender, *body.recipients])
    bands = {i: a.age_band for i, a in accounts.items()}
    ctx = _context(session, body, bands, stamp)
    conv = session.get(Conversation, body.conversation_id, with_for_update=True)
    if conv is None:
        conv = Conversation(id=body.conversation_id, integration_id=integration_id, participants=[], state={})
        session.add(conv)
    elif conv.integration_id != integration_id:
        raise Conflict("this conversation id belongs to another integration", code="conversation_conflict")
    people = list(dict.fromkeys([*conv.participants, body.sender, *body.recipients]))
    state = load_state(conv.state)
    message_row_id = new_id()
    result = detector.update(
        state, sender=body.sender, text=body.text, context=ctx, message_id=body.message_id or message_row_id
    )
    conv.participants = people
    conv.turns = state.turns
    conv.state = store_state(state)
    conv.grooming_score = result.grooming.score
    conv.sextortion_score = result.sextortion.score
    session.add(
        ConversationMessage(
            id=message_row_id,
            conversation_id=body.conversation_id,
            external_id=body.message_id,
            turn=result.turn,
            sender=body.sender,
            recipients=body.recipients,
            text=body.text,
            attachments=_attachments(session, integration_id, body, message_row_id),
            sent_at=sent_at,
            behaviours=[f.to_json() for f in result.fired],
            grooming_score=result.grooming.score,
            sextortion_score=result.sextortion.score,
        )
    )
    decision = decide_message(session, state, result, ctx, sender=body.sender)
    verdict = decision.verdict
    record_event(
        session,
        "message.received",
        subject_type="conversation",
        subject_id=body.conversation_id,
        actor=actor,
        data={
            "message_id": body.message_id or message_row_id,
            "turn": result.turn,
            "behaviours": len(result.fired),
            "action": verdict.action,
            "rule": verdict.rule,
            **decision.to_event(),
        },
    )
    nudges = _act(session, conv, state, result, decision, body, bands, actor)
    session.flush()
    return {
        "message_id": body.message_id or message_row_id,
        "conversation_id": body.conversation_id,
        "turn": result.turn,
        "grooming": result.grooming.to_json(),
        "sextortion": result.sextortion.to_json(),
        "relationship": sorted(k for k, v in state.relationship.items() if v),
        "verdict": {"action": verdict.action, "rule": verdict.rule, "reason": verdict.reason},
        "nudges": nudges,
    }


def conversation_view(
    state: ConversationState,
    result: TurnResult,
    ctx: MessageContext,
    graph: tuple[list[str], list[bool]] = ([], []),
) -> ConversationView:
    """The conversation as the policy rules see it after this message; `graph` is, per recipient,
    its assurance level and whether the sender is its connection (`youth.recipient_facts`)."""
    families = {"grooming": result.grooming, "sextortion": result.sextortion}
    return ConversationView(
        scores={f: round(r.score, 4) for f, r in families.items()},
        warned=tuple(f for f, r in families.items() if r.warn),
        crossed=tuple(f for f, r in families.items() if r.crossed),
        behaviours=tuple(sorted(k for k, n in state.counts.items() if n)),
        relationship=tuple(sorted(k for k, v in state.relationship.items() if v)),
        sender_band=ctx.sender_band,
        recipient_bands=tuple(ctx.recipient_bands),
        first_contact=ctx.first_contact,
        connected=ctx.connected,
        recipient_levels=tuple(graph[0]),
        recipient_connected=tuple(graph[1]),
    )


def decide_message(
    session: Session, state: ConversationState, result: TurnResult, ctx: MessageContext, *, sender: str | None = None
) -> Decision:
    """The message's verdict under the active rules (the same rule set as content). With the
    sender, the rules also see each recipient's assurance level and connection to the sender."""
    graph = recipient_facts(session, sender, ctx.recipient_ids) if sender else ([], [])
    view = conversation_view(state, result, ctx, graph)
    return decide(session, PolicyInput(surface="message", media_kind="text", conversation=view))


def _act(
    session: Session,
    conv: Conversation,
    state: ConversationState,
    result: TurnResult,
    decision: Decision,
    body: MessageIn,
    bands: dict[str, str],
    actor: str,
) -> list[dict[str, Any]]:
    """Carry out what the deciding rule asks: `preserve` keeps the conversation, `review` flags it
    for the grooming queue (`conversation.flagged`), `nudge` sends minors in it a safety message.

    Flags and nudges are about the families whose warning fired on this message; a rule that
    flags without a fresh warning (a hold of an unconnected adult's message, say) flags the
    family its category names, and nudges nobody (nudges come with a warning, once)."""
    fams = {"grooming": result.grooming, "sextortion": result.sextortion}
    for family, fam in fams.items():
        if fam.crossed:  # a fact of the detector, whatever the rules do with it
            if family == "grooming":
                conv.grooming_warned_turn = result.turn
            else:
                conv.sextortion_warned_turn = result.turn
    actions = set(decision.actions)
    if "preserve" in actions or "review" in actions:
        conv.preserved = True
    crossed = [f for f, r in fams.items() if r.crossed]
    if "review" in actions and not crossed:
        flag = [decision.category if decision.category in fams else max(fams, key=lambda f: fams[f].score)]
    else:
        flag = crossed if "review" in actions else []
    relationship = sorted(k for k, v in state.relationship.items() if v)
    for family in flag:
        conv.flagged_at = conv.flagged_at or now()
        record_event(
            session,
            "conversation.flagged",
            subject_type="conversation",
            subject_id=conv.id,
            actor=actor,
            data={
                "conversation_id": conv.id,
                "family": family,
                "sender": body.sender,
                "recipients": body.recipients,
                "participants": conv.participants,
                "turn": result.turn,
                "grooming": {"score": round(result.grooming.score, 4), "behaviours": result.grooming.behaviours},
                "sextortion": {"score": round(result.sextortion.score, 4), "behaviours": result.sextortion.behaviours},
                "relationship": relationship,
                "priority": conversation_priority(family, fams[family].score, relationship),
                "preserved": conv.preserved,
                "rule": decision.verdict.rule,
                "action": decision.verdict.action,
            },
        )
    nudges: list[dict[str, Any]] = []
    for family in crossed if "nudge" in actions else []:
        for account in conv.participants:
            if account == body.sender or not is_minor(bands.get(account)):
                continue
            message = nudge_message(family)
            nudge = record_event(
                session,
                "safety.nudge",
                subject_type="account",
                subject_id=account,
                actor=actor,
                data={"account_id": account, "conversation_id": conv.id, "turn": result.turn, "message": message},
            )
            # event_id: what the service sends back in POST /v1/nudges/{event_id}/outcome
            nudges.append({"account_id": account, "event_id": nudge.id, **message})
    return nudges
