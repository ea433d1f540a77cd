"""`POST /v1/messages`: one message of a conversation, answered with its grooming and sextortion state."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from haven.classify.conversation import detector_for
from haven.core.auth import Principal
from haven.core.web import require_scope
from haven.intake import idempotency
from haven.intake.messages import MessageIn, record_message

router = APIRouter(prefix="/v1", tags=["intake"])
Intake = Annotated[Principal, Depends(require_scope("intake"))]


@router.post(
    "/messages",
    response_model=dict[str, Any],
    responses={409: {"description": "Idempotency-Key reused for another message"}},
)
def submit_message(body: MessageIn, request: Request, principal: Intake) -> dict[str, Any] | JSONResponse:
    """Update the conversation's detector with this message.

    The answer carries `grooming` and `sextortion`, each `{score, warn, behaviours}` where every
    behaviour names the message and turn where it fired; `nudges` lists the safety messages
    emitted (as `safety.nudge` events) for minors in the conversation. `Idempotency-Key`
    works as on `POST /v1/content`.
    """
    detector = detector_for(request.app.state.settings)
    db = request.app.state.db
    attempt = idempotency.attempt(request, principal, "messages", body.model_dump_json().encode())
    # Commit before answering (a yield-dependency session commits after the response is sent,
    # so the service's next message could miss this one's state).
    for tries in range(3):
        # Also a concurrent retry with the same key that committed first (its answer is kept).
        if (stored := idempotency.replay(db, attempt)) is not None:
            return stored
        try:
            with db.session() as session:
                answer = record_message(
                    session, detector, integration_id=principal.integration_id, actor=principal.actor, body=body
                )
                idempotency.remember(session, attempt, answer)
                return answer
        except IntegrityError:
            # Two first messages raced to create the same conversation or contact row: the
            # loser retries and now sees the winner's row (and waits on its row lock).
            if tries == 2:
                raise
    raise AssertionError("unreachable")
