"""What a reviewer sees of a flagged conversation: every message in order with the behaviours that
fired on it (to highlight), the scores after it, and where the warnings fired. For the review
console; every call is an access to preserved content and is written to the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.accounts.models import Account
from haven.classify.models import Conversation, ConversationMessage
from haven.core.errors import NotFound
from haven.core.ledger import audit


def conversation_for_review(
    session: Session,
    conversation_id: str,
    *,
    actor: str,
    purpose: str,
    source_ip: str | None = None,
    around_turn: int | None = None,
    before: int = 10,
    after: int = 5,
) -> dict[str, Any]:
    """The conversation with per-message highlights; the caller has checked the actor's role.

    With `around_turn` only the messages from `before` turns earlier to `after` turns later are
    read (the surroundings of one message, e.g. the one that carried a file under review); the
    audit record says which turns were shown."""
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        raise NotFound(f"no conversation '{conversation_id}'", code="conversation_not_found")
    audit(
        session,
        actor=actor,
        action="conversation.view",
        object_type="conversation",
        object_id=conversation_id,
        purpose=purpose,
        source_ip=source_ip,
        details=None if around_turn is None else {"turns": [around_turn - before, around_turn + after]},
    )
    bands = dict(session.execute(select(Account.id, Account.age_band).where(Account.id.in_(conv.participants))).all())
    q = select(ConversationMessage).where(ConversationMessage.conversation_id == conversation_id)
    if around_turn is not None:
        q = q.where(ConversationMessage.turn.between(around_turn - before, around_turn + after))
    rows = session.scalars(q.order_by(ConversationMessage.turn))
    messages = [
        {
            "turn": m.turn,
            "message_id": m.external_id or m.id,
            "row_id": m.id,
            "sender": m.sender,
            "recipients": m.recipients,
            "sent_at": m.sent_at.isoformat(),
            "text": m.text,
            "attachments": m.attachments,
            "highlights": [
                {"behaviour": b["behaviour"], "family": b["family"], "evidence": b["evidence"], "source": b["source"]}
                for b in m.behaviours
            ],
            "grooming_score": round(m.grooming_score, 4),
            "sextortion_score": round(m.sextortion_score, 4),
            "warning": (["grooming"] if m.turn == conv.grooming_warned_turn else [])
            + (["sextortion"] if m.turn == conv.sextortion_warned_turn else []),
        }
        for m in rows
    ]
    return {
        "conversation_id": conv.id,
        "participants": [{"account_id": p, "age_band": bands.get(p, "unknown")} for p in conv.participants],
        "turns": conv.turns,
        "grooming": {"score": round(conv.grooming_score, 4), "warned_turn": conv.grooming_warned_turn},
        "sextortion": {"score": round(conv.sextortion_score, 4), "warned_turn": conv.sextortion_warned_turn},
        "relationship": sorted(k for k, v in (conv.state or {}).get("relationship", {}).items() if v),
        "flagged_at": conv.flagged_at.isoformat() if conv.flagged_at else None,
        "preserved": conv.preserved,
        "messages": messages,
    }
