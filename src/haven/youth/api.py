"""The youth API the service codes against (docs/youth.md): age signals and the assured age,
protections, the social graph, re-assurance reports, activity metadata, guardian links,
summaries and approvals. Every call needs the `accounts` scope; errors are 4xx with a code."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select

from haven.core.auth import Principal
from haven.core.errors import Invalid
from haven.core.web import require_scope
from haven.youth import guardians
from haven.youth.config import Level
from haven.youth.models import AgeSignal, ReassuranceRequest
from haven.youth.service import (
    SignalInput,
    current,
    protections_for,
    record_signal,
    remove_connection,
    request_reassurance,
    set_connection,
)

router = APIRouter(prefix="/v1", tags=["youth"])
Accounts = Annotated[Principal, Depends(require_scope("accounts"))]
AccountId = Annotated[str, Path(min_length=1, max_length=200)]
LinkId = Annotated[str, Path(min_length=1, max_length=26)]

#: Fields that would carry the personal data Haven must never hold: refused by name.
REFUSED_FIELDS = frozenset(
    {
        "birth_date",
        "date_of_birth",
        "dob",
        "birthdate",
        "document",
        "document_image",
        "image",
        "photo",
        "selfie",
        "face",
        "name",
        "full_name",
        "document_number",
    }
)


def _aware(v: datetime | None) -> datetime | None:
    if v is not None and v.tzinfo is None:
        raise ValueError("needs a timezone (ISO 8601 with Z or an offset)")
    return v


class AgeSignalIn(BaseModel):
    """`POST /v1/accounts/{id}/age-signals`: a result, never the evidence itself."""

    model_config = ConfigDict(extra="forbid")

    method: str = Field(min_length=1, max_length=32)
    provider: str = Field(min_length=1, max_length=100)
    level: Level
    age_band: Literal["under_13", "13_15", "16_17", "adult"] | None = None
    over: int | None = Field(None, ge=1, le=99, description="the age is at least this")
    under: int | None = Field(None, ge=1, le=99, description="the age is below this")
    observed_at: datetime
    expires_at: datetime | None = None
    evidence_ref: str | None = Field(
        None,
        max_length=200,
        pattern=r"^[A-Za-z0-9._:/#-]+$",
        description="the provider's reference to its own record (not the evidence)",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_personal_data(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and (bad := sorted(REFUSED_FIELDS & set(raw))):
            raise Invalid(
                f"Haven stores age results only, never {', '.join(bad)}; send the result (band or threshold)",
                code="personal_data_refused",
            )
        return raw

    _tz = field_validator("observed_at", "expires_at")(classmethod(lambda cls, v: _aware(v)))

    def to_input(self) -> SignalInput:
        return SignalInput(
            method=self.method,
            provider=self.provider,
            level=self.level,
            observed_at=self.observed_at,
            age_band=self.age_band,
            over=self.over,
            under=self.under,
            expires_at=self.expires_at,
            evidence_ref=self.evidence_ref,
        )


def _signal_json(r: AgeSignal) -> dict[str, Any]:
    return {
        "id": r.id,
        "method": r.method,
        "provider": r.provider,
        "level": r.level,
        "age_band": r.age_band,
        "min_age": r.min_age,
        "max_age": r.max_age,
        "observed_at": r.observed_at.isoformat(),
        "expires_at": r.expires_at.isoformat() if r.expires_at else None,
        "evidence_ref": r.evidence_ref,
    }


@router.post("/accounts/{account_id}/age-signals", status_code=201)
def post_age_signal(account_id: AccountId, body: AgeSignalIn, principal: Accounts, request: Request) -> dict[str, Any]:
    """Store an age-assurance result and answer with the account's assured age."""
    with request.app.state.db.session() as session:
        row, assured = record_signal(session, account_id, body.to_input(), actor=principal.actor)
        return {
            "signal_id": row.id,
            "account_id": account_id,
            "assured": {"age_band": assured.age_band, "level": assured.level, "method": assured.method},
            "reassurance_needed": assured.reassure,
        }


@router.get("/accounts/{account_id}/age")
def get_age(account_id: AccountId, principal: Accounts, request: Request) -> dict[str, Any]:
    """The assured age (band, level, method, since, why), its signals and pending re-assurance."""
    with request.app.state.db.reading() as session:
        a = current(session, account_id)
        signals = session.scalars(select(AgeSignal).where(AgeSignal.account_id == account_id).order_by(AgeSignal.id))
        pending = session.scalars(
            select(ReassuranceRequest).where(
                ReassuranceRequest.account_id == account_id, ReassuranceRequest.status == "pending"
            )
        )
        return {
            "account_id": account_id,
            **a.to_json(),
            "signals": [_signal_json(s) for s in signals],
            "reassurance_pending": [
                {"id": r.id, "reason_code": r.reason_code, "reason": r.reason, "created_at": r.created_at.isoformat()}
                for r in pending
            ],
        }


@router.get("/accounts/{account_id}/protections")
def get_protections(
    account_id: AccountId,
    principal: Accounts,
    request: Request,
    region: Annotated[str | None, Query(max_length=8, pattern=r"^[A-Za-z]{2}$")] = None,
) -> dict[str, Any]:
    """The settings the service must apply to this account and the rule that gave each. A region
    whose rule needs a higher level than the account's asks for re-assurance."""
    with request.app.state.db.session() as session:
        p = protections_for(session, account_id, region)
        if p.reassure_reason:
            request_reassurance(
                session,
                account_id,
                "region_requires_level",
                p.reassure_reason,
                actor=principal.actor,
                required_level=_required(p.region),
            )
        return p.to_json()


def _required(region: str) -> str:
    from haven.youth.config import get_config

    return get_config().region(region)[1].required_level


class ConnectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["follow", "friend", "accepted_request", "connection"] = "connection"


@router.put("/accounts/{account_id}/connections/{other}")
def put_connection(
    account_id: AccountId, other: AccountId, principal: Accounts, request: Request, body: ConnectionIn | None = None
) -> dict[str, Any]:
    """`other` is among this account's connections (the account follows, befriended or accepted
    them): their messages to it are not held as an unconnected adult's."""
    with request.app.state.db.session() as session:
        created = set_connection(session, account_id, other, (body or ConnectionIn()).kind, actor=principal.actor)
    return {"account_id": account_id, "other": other, "changed": created}


@router.delete("/accounts/{account_id}/connections/{other}")
def delete_connection(account_id: AccountId, other: AccountId, principal: Accounts, request: Request) -> dict[str, Any]:
    with request.app.state.db.session() as session:
        removed = remove_connection(session, account_id, other, actor=principal.actor)
    return {"account_id": account_id, "other": other, "removed": removed}


class ChildReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reporter: str = Field(min_length=1, max_length=200)
    note: str = Field("", max_length=300)


@router.post("/accounts/{account_id}/child-reports", status_code=201)
def post_child_report(
    account_id: AccountId, body: ChildReportIn, principal: Accounts, request: Request
) -> dict[str, Any]:
    """A user reported "this is a child": ask the service to re-check the account's age."""
    with request.app.state.db.session() as session:
        a = current(session, account_id)
        req = request_reassurance(
            session,
            account_id,
            "user_report_child",
            f"a user reported this account as a child (assured: {a.age_band}, {a.level})",
            actor=principal.actor,
        )
    return {"account_id": account_id, "reassurance_requested": req is not None}


class ActivityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["time_spent", "group_joined", "purchase", "report_filed"]
    amount: int | None = Field(None, ge=0, le=10**9, description="minutes (time_spent) or minor units (purchase)")
    currency: str | None = Field(None, min_length=3, max_length=3)
    ref: str | None = Field(None, max_length=200, description="group or item id (no free text)")
    at: datetime | None = None

    _tz = field_validator("at")(classmethod(lambda cls, v: _aware(v)))


@router.post("/accounts/{account_id}/activity", status_code=201)
def post_activity(account_id: AccountId, body: ActivityIn, principal: Accounts, request: Request) -> dict[str, Any]:
    """Metadata of a teen's use that a guardian may see (never text or media)."""
    with request.app.state.db.session() as session:
        row = guardians.record_activity(
            session, account_id, body.kind, amount=body.amount, currency=body.currency, ref=body.ref, at=body.at
        )
        return {"id": row.id}


# --- guardians ---------------------------------------------------------------------------------


def _link(g: Any) -> dict[str, Any]:
    return {
        "id": g.id,
        "guardian_id": g.guardian_id,
        "teen_id": g.teen_id,
        "status": g.status,
        "created_at": g.created_at.isoformat(),
        "confirmed_at": g.confirmed_at.isoformat() if g.confirmed_at else None,
        "revoked_at": g.revoked_at.isoformat() if g.revoked_at else None,
        "revoked_by": g.revoked_by,
    }


class GuardianshipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    guardian_id: str = Field(min_length=1, max_length=200)
    teen_id: str = Field(min_length=1, max_length=200)


@router.post("/guardianships", status_code=201)
def post_guardianship(body: GuardianshipIn, principal: Accounts, request: Request) -> dict[str, Any]:
    """A pending guardian link; `code` (shown once) is for the teen to confirm it."""
    with request.app.state.db.session() as session:
        g, code = guardians.create(session, body.guardian_id, body.teen_id, actor=principal.actor)
        return {
            **_link(g),
            "code": code,
            "code_expires_at": g.code_expires_at.isoformat() if g.code_expires_at else None,
        }


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    teen_id: str = Field(min_length=1, max_length=200)
    code: str = Field(min_length=1, max_length=16)


@router.post("/guardianships/{link_id}/confirm")
def post_confirm(link_id: LinkId, body: ConfirmIn, principal: Accounts, request: Request) -> dict[str, Any]:
    with request.app.state.db.session() as session:
        return _link(guardians.confirm(session, link_id, body.teen_id, body.code, actor=principal.actor))


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: str = Field(min_length=1, max_length=200, description="the guardian or the teen")


@router.post("/guardianships/{link_id}/revoke")
def post_revoke(link_id: LinkId, body: RevokeIn, principal: Accounts, request: Request) -> dict[str, Any]:
    with request.app.state.db.session() as session:
        return _link(guardians.revoke(session, link_id, body.by, actor=principal.actor))


@router.get("/accounts/{account_id}/guardianships")
def get_links_of_teen(account_id: AccountId, principal: Accounts, request: Request) -> dict[str, Any]:
    """Every guardian link of a teen, in any state: what the teen sees at all times."""
    with request.app.state.db.reading() as session:
        return {
            "teen_id": account_id,
            "guardianships": [_link(g) for g in guardians.links_of_teen(session, account_id)],
        }


@router.get("/guardianships/{link_id}/summary")
def get_summary(
    link_id: LinkId,
    principal: Accounts,
    request: Request,
    guardian_id: Annotated[str, Query(min_length=1, max_length=200)],
    days: Annotated[int, Query(ge=1, le=31)] = 7,
) -> dict[str, Any]:
    """Metadata only (new contacts, groups, time, purchases, whether the teen reported something);
    403 unless the link is active and `guardian_id` is its guardian. Audited."""
    with request.app.state.db.session() as session:
        return guardians.summary(session, link_id, guardian_id, actor=principal.actor, days=days)


class ApprovalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["purchase", "loosen_default"]
    setting: str | None = Field(None, max_length=48)
    value: bool | int | str | None = None
    amount: int | None = Field(None, ge=0, le=10**9)
    currency: str | None = Field(None, min_length=3, max_length=3)
    description: str = Field("", max_length=300)


def _approval(a: Any) -> dict[str, Any]:
    return {
        "id": a.id,
        "guardianship_id": a.guardianship_id,
        "kind": a.kind,
        "setting": a.setting,
        "value": a.value,
        "amount": a.amount,
        "currency": a.currency,
        "status": a.status,
    }


@router.post("/guardianships/{link_id}/approvals", status_code=201)
def post_approval(link_id: LinkId, body: ApprovalIn, principal: Accounts, request: Request) -> dict[str, Any]:
    """Ask the guardian to approve a purchase above the cap or a loosened default
    (`guardian.approval_requested` webhook); answered at once when no approval is needed."""
    with request.app.state.db.session() as session:
        a = guardians.request_approval(
            session,
            link_id,
            kind=body.kind,
            setting=body.setting,
            value=body.value,
            amount=body.amount,
            currency=body.currency,
            description=body.description,
            actor=principal.actor,
        )
        return _approval(a)


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    guardian_id: str = Field(min_length=1, max_length=200)
    approve: bool


@router.post("/guardianships/{link_id}/approvals/{approval_id}")
def post_answer(
    link_id: LinkId, approval_id: LinkId, body: AnswerIn, principal: Accounts, request: Request
) -> dict[str, Any]:
    with request.app.state.db.session() as session:
        a = guardians.answer(session, link_id, approval_id, body.guardian_id, body.approve, actor=principal.actor)
        return _approval(a)
