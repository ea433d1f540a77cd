"""`POST /v1/messages`: one message of a conversation, answered with its grooming and sextortion state."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from haven.classify.conversation import detector_for
from haven.core.auth import Principal
from haven.core.web import SessionDep, require_scope
from haven.intake.messages import MessageIn, record_message

router = APIRouter(prefix="/v1", tags=["intake"])
Intake = Annotated[Principal, Depends(require_scope("intake"))]


@router.post("/messages")
def submit_message(body: MessageIn, request: Request, principal: Intake, session: SessionDep) -> dict[str, Any]:
    """Update the conversation's detector with this message.

    The answer carries `grooming` and `sextortion`, each `{score, warn, behaviours}` where every
    behaviour names the message and turn where it fired; `nudges` lists the safety messages
    emitted (as `safety.nudge` events) for minors in the conversation.
    """
    detector = detector_for(request.app.state.settings)
    return record_message(session, detector, integration_id=principal.integration_id, actor=principal.actor, body=body)
