"""The wire shape of `POST /v1/transactions` (amounts are decimal strings, never floats)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Kind = Literal["p2p", "tip", "subscription", "payout", "purchase", "gift_card", "crypto", "withdrawal"]
Outcome = Literal["approve", "review", "hold", "decline"]


class TransactionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=200, description="the service's id of the payment")
    kind: Kind
    payer: str = Field(min_length=1, max_length=200)
    payee: str = Field(min_length=1, max_length=200)
    amount: str = Field(min_length=1, max_length=48, description='a decimal string, e.g. "25.00"; never a number')
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217")
    payer_country: str | None = Field(None, min_length=2, max_length=2, description="ISO 3166-1 alpha-2")
    payee_country: str | None = Field(None, min_length=2, max_length=2, description="ISO 3166-1 alpha-2")
    method: str | None = Field(None, max_length=40, description="card, bank, wallet, gift_card, crypto ...")
    memo: str | None = Field(None, max_length=500)
    merchant_category: str | None = Field(None, pattern=r"^[0-9]{4}$", description="ISO 18245 MCC")
    merchant: str | None = Field(None, max_length=200)
    occurred_at: datetime

    @field_validator("amount", mode="before")
    @classmethod
    def _string(cls, v: Any) -> Any:
        if not isinstance(v, str):
            raise ValueError('amount must be a decimal string such as "12.50" (a JSON number loses precision)')
        return v

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("occurred_at needs a timezone (ISO 8601 with Z or an offset)")
        return v

    @field_validator("currency", "payer_country", "payee_country")
    @classmethod
    def _upper(cls, v: str | None) -> str | None:
        return v.upper() if v else v


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transactions: list[TransactionIn] = Field(min_length=1, max_length=500)


class TransactionOut(BaseModel):
    transaction_id: str
    external_id: str
    outcome: Outcome
    rules: list[str]
    indicators: list[str]
    reason: str
    actions: list[str]
    shadow: list[dict[str, Any]] = Field(default_factory=list)
