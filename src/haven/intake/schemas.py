"""Wire shapes of intake."""

from __future__ import annotations

import re
from datetime import datetime
from ipaddress import ip_address
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from haven.signals.types import REGISTRY
from haven.signals.types.wire import LookupSignalType

#: `type/subtype` with optional `; name=value` parameters, RFC 6838 token characters only: the
#: service's claim is stored and shown, never put in a header, but a CR, LF or quote has no
#: business in it.
_MIME = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}"
    r"(?:[ \t]*;[ \t]*[A-Za-z0-9!#$&^_.+-]+=[A-Za-z0-9!#$&^_.+-]+)*"
)

#: Coarse value length bounds over the lookupable signal types (each type then checks its own).
_MIN_VALUE, _MAX_VALUE = REGISTRY.length_bounds("lookup")


class ContentMetadata(BaseModel):
    """The `metadata` form field of `POST /v1/content`, as JSON."""

    model_config = ConfigDict(extra="forbid")

    external_id: str | None = Field(None, max_length=200, description="the service's id of the item")
    content_type: str | None = Field(None, max_length=120, description="MIME type the service saw")
    uploader: str | None = Field(None, max_length=200, description="the service's account id")
    surface: str | None = Field(None, max_length=40, description="upload, message, profile, ...")
    recipients: list[str] = Field(default_factory=list, max_length=1000)
    created_at: datetime | None = None
    ip: str | None = Field(None, max_length=64)

    @field_validator("content_type")
    @classmethod
    def _mime(cls, v: str | None) -> str | None:
        if v is not None and not _MIME.fullmatch(v):
            raise ValueError(
                "content_type must be a MIME type such as image/jpeg (type/subtype, no control characters)"
            )
        return v

    @field_validator("ip")
    @classmethod
    def _ip(cls, v: str | None) -> str | None:
        if v is not None:
            ip_address(v)
        return v

    @field_validator("created_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("created_at needs a timezone (ISO 8601 with Z or an offset)")
        return v


class MatchOut(BaseModel):
    bank: str
    bank_id: str
    bank_kind: str
    entry_id: str
    signal_type: str
    distance: int
    classification: str | None
    status: Literal["active", "quarantined", "allowlisted", "low_quality"]
    query_variant: str | None = None


class VerdictOut(BaseModel):
    action: Literal["allow", "review", "block"]
    rule: str
    reason: str


class Hashes(BaseModel):
    md5: str
    sha1: str
    sha256: str
    pdq: str | None = None
    pdq_quality: int | None = None


class ContentResult(BaseModel):
    id: str
    external_id: str | None
    media_kind: str
    mime: str
    hashes: Hashes
    matches: list[MatchOut]
    verdict: VerdictOut


class HashQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signal_type: LookupSignalType
    value: str = Field(min_length=_MIN_VALUE, max_length=_MAX_VALUE)
    quality: int | None = Field(None, ge=0, le=100, description="PDQ quality when the caller knows it")


class LookupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hashes: list[HashQuery] = Field(min_length=1, max_length=1000)


class LookupResult(BaseModel):
    signal_type: str
    value: str
    matches: list[MatchOut]
    verdict: VerdictOut


class LookupResponse(BaseModel):
    results: list[LookupResult]
