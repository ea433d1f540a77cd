"""HTTP routes of enforcement: webhook configuration and dead letters, appeals, statements of
reasons, account standing, and law-enforcement notice holds."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from haven.accounts.models import Account
from haven.core.auth import Principal
from haven.core.errors import NotFound
from haven.core.handles import reviewer_handle
from haven.core.outbound import redact_url
from haven.core.web import require_scope
from haven.enforce import appeals, statements, strikes, webhooks
from haven.enforce.decisions import decisions_for_account, find_decision
from haven.enforce.models import Delivery, NoticeHold, StatementOfReasons

router = APIRouter(prefix="/v1", tags=["enforcement"])
Admin = Annotated[Principal, Depends(require_scope("admin"))]
Appeals = Annotated[Principal, Depends(require_scope("appeals"))]
Accounts = Annotated[Principal, Depends(require_scope("accounts"))]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000)
    secret: str | None = Field(
        None,
        min_length=16,
        max_length=500,
        description="Standard Webhooks signing secret (`whsec_` + base64 of 24-64 bytes); "
        "omit it and Haven makes one and returns it once",
    )


class WebhookOut(BaseModel):
    url: str | None = Field(description="the endpoint, with any credentials and query values replaced by ***")
    secret_set: bool
    source: str
    secret: str | None = Field(None, description="only when Haven made the secret: shown this once, never again")
    previous_secret_until: datetime | None = Field(
        None, description="after a rotation: the replaced secret also signs until then"
    )


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: str | None = Field(None, min_length=16, max_length=500, description="the new secret; omit to get one")
    grace_hours: float = Field(24, ge=0, le=24 * 30, description="how long the replaced secret keeps signing")


class DeliveryOut(BaseModel):
    id: str
    action_type: str
    idempotency_key: str
    subject_type: str
    subject_id: str
    decision_id: str | None
    status: str
    attempts: int
    replays: int
    last_status: int | None
    last_error: str | None = Field(
        description="category of the last failure: timeout, refused, tls, http_status, blocked_address, network, "
        "no_endpoint"
    )
    created_at: datetime
    delivered_at: datetime | None


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision_id: str = Field(min_length=1, max_length=64, description="the decision in the statement of reasons")
    appellant: str = Field(min_length=1, max_length=200, description="the account filing the appeal")
    statement: str = Field(min_length=1, max_length=10000, description="why the decision is wrong")


class AppealOut(BaseModel):
    id: str
    decision_id: str
    appellant: str
    status: str
    filed_at: datetime
    decided_at: datetime | None
    reason: str | None
    #: Who decided the appeal, as a pseudonymous reviewer handle (never a staff e-mail or name).
    decided_by_handle: str | None = None


class StatementOut(BaseModel):
    id: str
    decision_id: str
    puid: str
    locale: str
    subject: str
    text: str
    html: str
    fields: dict[str, Any]
    notice_status: str
    tdb_status: str


class StrikeOut(BaseModel):
    id: str
    decision_id: str
    category: str
    severity: str
    points: int
    created_at: datetime
    expires_at: datetime | None
    removed_at: datetime | None


class StandingOut(BaseModel):
    account_id: str
    state: str
    active_points: int
    strikes: list[StrikeOut]
    decisions: list[dict[str, Any]]


class NoticeHoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: str = Field(min_length=1, max_length=200)
    reference: str = Field(min_length=1, max_length=200, description="the law-enforcement request's reference")
    reason: str = Field("", max_length=2000)
    until: datetime | None = None


class NoticeHoldOut(BaseModel):
    id: str
    account_id: str
    reference: str
    until: datetime | None
    released_at: datetime | None


@router.put("/webhook", response_model=WebhookOut, response_model_exclude_none=True)
def set_webhook(body: WebhookIn, request: Request, principal: Admin) -> WebhookOut:
    """Set the service's webhook endpoint and Standard Webhooks signing secret. A secret you send
    is never returned; without one Haven makes a `whsec_` secret and returns it this once."""
    secret = body.secret or webhooks.generate_secret()
    with request.app.state.db.session() as session:
        row = webhooks.configure_endpoint(session, url=body.url, secret=secret, actor=principal.actor)
        return WebhookOut(
            url=redact_url(row.url), secret_set=True, source="api", secret=None if body.secret else secret
        )


@router.post("/webhook/rotate-secret", response_model=WebhookOut, response_model_exclude_none=True)
def rotate_webhook_secret(body: RotateIn, request: Request, principal: Admin) -> WebhookOut:
    """Replace the signing secret; the old one keeps signing (a second `v1,` signature in
    `webhook-signature`) for `grace_hours`, so the receiver switches without losing a request."""
    with request.app.state.db.session() as session:
        row, secret = webhooks.rotate_secret(
            session, actor=principal.actor, new_secret=body.secret, grace=timedelta(hours=body.grace_hours)
        )
        return WebhookOut(
            url=redact_url(row.url),
            secret_set=True,
            source="api",
            secret=None if body.secret else secret,
            previous_secret_until=row.previous_until,
        )


@router.get("/webhook", response_model=WebhookOut, response_model_exclude={"secret"})
def get_webhook(request: Request, _: Admin) -> WebhookOut:
    with request.app.state.db.session() as session:
        target = webhooks.endpoint(session)
        return WebhookOut(
            url=redact_url(target[0]) if target else None,
            secret_set=target is not None,
            source="configured" if target else "none",
        )


@router.get("/webhook/deliveries", response_model=list[DeliveryOut])
def deliveries(request: Request, _: Admin, status: str | None = None, limit: int = 100) -> list[DeliveryOut]:
    """Deliveries, newest first; `?status=dead` is the dead-letter list."""
    with request.app.state.db.session() as session:
        rows = webhooks.list_deliveries(session, status, min(max(limit, 1), 1000))
        return [DeliveryOut.model_validate(r, from_attributes=True) for r in rows]


@router.post("/webhook/deliveries/{delivery_id}/replay", response_model=DeliveryOut)
def replay(delivery_id: str, request: Request, principal: Admin) -> DeliveryOut:
    """Send a dead letter again, with the same body and idempotency key."""
    with request.app.state.db.session() as session:
        row = webhooks.replay(session, delivery_id, actor=principal.actor)
        return DeliveryOut.model_validate(row, from_attributes=True)


@router.post("/appeals", response_model=AppealOut, status_code=201)
def file_appeal(body: AppealIn, request: Request, principal: Appeals) -> AppealOut:
    """File an appeal (DSA Art 20) against a decision, within the window, once per decision."""
    with request.app.state.db.session() as session:
        row = appeals.file(
            session,
            decision_ref=body.decision_id,
            appellant=body.appellant,
            statement=body.statement,
            actor=principal.actor,
        )
        return AppealOut.model_validate(row, from_attributes=True)


@router.get("/appeals/{appeal_id}", response_model=AppealOut)
def get_appeal(appeal_id: str, request: Request, _: Appeals) -> AppealOut:
    with request.app.state.db.session() as session:
        row = appeals.get(session, appeal_id)
        out = AppealOut.model_validate(row, from_attributes=True)
        if row.decided_by and row.decided_by.startswith("staff:"):
            out.decided_by_handle = reviewer_handle(row.decided_by)
        return out


@router.get("/decisions/{decision_id}/statement", response_model=StatementOut)
def get_statement(decision_id: str, request: Request, _: Accounts) -> StatementOut:
    """The statement of reasons of a decision, as delivered to the user and in machine form."""
    with request.app.state.db.session() as session:
        decision = find_decision(session, decision_id)
        row = decision and session.scalar(
            select(StatementOfReasons).where(StatementOfReasons.decision_id == decision.id).limit(1)
        )
        if not row:
            raise NotFound(f"no statement of reasons for decision '{decision_id}'", code="statement_not_found")
        return StatementOut.model_validate(row, from_attributes=True)


@router.get("/accounts/{account_id}/enforcement", response_model=StandingOut)
def standing(account_id: str, request: Request, _: Accounts) -> StandingOut:
    """An account's state, active strike points, strikes and decisions."""
    with request.app.state.db.session() as session:
        acct = session.get(Account, account_id)
        if acct is None:
            raise NotFound(f"no account '{account_id}'", code="account_not_found")
        rows = strikes.strikes_of(session, account_id)
        points = strikes.standing(session, account_id)[0]
        return StandingOut(
            account_id=account_id,
            state=acct.state,
            active_points=points,
            strikes=[StrikeOut.model_validate(r, from_attributes=True) for r in rows],
            decisions=[
                {
                    "id": d.id,
                    "category": d.category,
                    "outcome": d.outcome,
                    "created_at": d.created_at.isoformat(),
                    "ladder": d.ladder,
                    "overturned": d.overturned_at is not None,
                }
                for d in decisions_for_account(session, account_id)
            ],
        )


@router.post("/notice-holds", response_model=NoticeHoldOut, status_code=201)
def place_hold(body: NoticeHoldIn, request: Request, principal: Admin) -> NoticeHoldOut:
    """Hold notices to an account at law enforcement's request (audited)."""
    with request.app.state.db.session() as session:
        row = statements.place_hold(
            session,
            account_id=body.account_id,
            reference=body.reference,
            reason=body.reason,
            until=body.until,
            actor=principal.actor,
        )
        return NoticeHoldOut.model_validate(row, from_attributes=True)


@router.post("/notice-holds/{hold_id}/release", response_model=NoticeHoldOut)
def release_hold(hold_id: str, request: Request, principal: Admin) -> NoticeHoldOut:
    with request.app.state.db.session() as session:
        statements.release_hold(session, hold_id, actor=principal.actor)

        return NoticeHoldOut.model_validate(session.get(NoticeHold, hold_id), from_attributes=True)


@router.get("/enforcement/ladder")
def get_ladder(_: Admin) -> dict[str, Any]:
    """The strike ladder in force (severity levels, category severities, thresholds)."""
    return strikes.ladder().model_dump()


__all__ = ["Delivery", "router"]
