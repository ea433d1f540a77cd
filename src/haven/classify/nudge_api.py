"""`POST /v1/nudges/{event_id}/outcome`: the service tells Haven what the child did with a safety
message (the `event_id` of the `safety.nudge` webhook), so the dashboard can say which messages
help (`haven.transparency.nudges`). Recorded as `safety.nudge_outcome`; the same action on the
same nudge twice is recorded once."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict

from haven.core.auth import Principal
from haven.core.errors import NotFound
from haven.core.ledger import events_for, record_event
from haven.core.models import Event
from haven.core.web import require_scope

router = APIRouter(prefix="/v1", tags=["messages"])
Intake = Annotated[Principal, Depends(require_scope("intake"))]


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["clicked", "dismissed", "reported", "blocked"]


@router.post("/nudges/{event_id}/outcome", status_code=201)
def post_outcome(
    event_id: Annotated[str, Path(min_length=1, max_length=26)],
    body: OutcomeIn,
    principal: Intake,
    request: Request,
    response: Response,
) -> dict[str, Any]:
    """Record what the child did with the nudge: `clicked` (opened a link or action), `dismissed`,
    `reported` or `blocked` (from the nudge). 404 for a nudge of another integration."""
    with request.app.state.db.session() as s:
        nudge = s.get(Event, event_id)
        if nudge is None or nudge.type != "safety.nudge" or nudge.actor != principal.actor:
            raise NotFound(f"no safety nudge '{event_id}'", code="nudge_not_found")
        account = str(nudge.data["account_id"])
        seen = any(
            e.type == "safety.nudge_outcome"
            and e.data.get("nudge_event_id") == event_id
            and e.data.get("action") == body.action
            for e in events_for(s, "account", account)
        )
        if seen:
            response.status_code = 200
            return {"nudge_event_id": event_id, "action": body.action, "recorded": False}
        record_event(
            s,
            "safety.nudge_outcome",
            subject_type="account",
            subject_id=account,
            actor=principal.actor,
            data={
                "nudge_event_id": event_id,
                "action": body.action,
                "conversation_id": str(nudge.data["conversation_id"]),
                "family": str((nudge.data.get("message") or {}).get("family", "")),
            },
        )
    return {"nudge_event_id": event_id, "action": body.action, "recorded": True}
