"""Wire shapes of the banks API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from haven.signals.types import REGISTRY
from haven.signals.types.wire import BankSignalType

#: Coarse value length bounds over the bankable signal types (each type then checks its own).
_MIN_VALUE, _MAX_VALUE = REGISTRY.length_bounds("bank")

BankKindLiteral = Literal["known_csam", "known_exploitation", "ncii", "local_confirmed", "allowlist"]
#: How many sub-region and rotation variants Haven banks for media it hashes itself (docs/signals.md).
RobustnessLiteral = Literal["off", "standard", "strong"]
_ROBUSTNESS_HELP = (
    "variants banked for media Haven hashes itself: off (the hash alone), standard (bands, 95% side and "
    "corner crops), strong (also deeper crops and rotations of a few degrees; the default)"
)


class BankCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: BankKindLiteral
    description: str = Field("", max_length=4000)
    default_classification: str | None = Field(None, max_length=80)
    pdq_threshold: int = Field(31, ge=0, le=128)
    enabled: bool = True
    robustness: RobustnessLiteral = Field("strong", description=_ROBUSTNESS_HELP)


class BankUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    kind: BankKindLiteral | None = None
    description: str | None = Field(None, max_length=4000)
    default_classification: str | None = Field(None, max_length=80)
    pdq_threshold: int | None = Field(None, ge=0, le=128)
    enabled: bool | None = None
    robustness: RobustnessLiteral | None = Field(None, description=_ROBUSTNESS_HELP)


class BankOut(BaseModel):
    id: str
    name: str
    kind: str
    description: str
    default_classification: str | None
    pdq_threshold: int
    enabled: bool
    robustness: str
    provenance: str
    entries: int
    created_at: datetime
    updated_at: datetime


class EntryInModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signal_type: BankSignalType
    value: str = Field(min_length=_MIN_VALUE, max_length=_MAX_VALUE)
    classification: str | None = Field(None, max_length=80)
    source_ref: str | None = Field(None, max_length=400)


class EntriesAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: list[EntryInModel] = Field(min_length=1, max_length=10_000)


class EntriesAdded(BaseModel):
    added: int
    ids: list[str]


class EntryOut(BaseModel):
    id: str
    bank_id: str
    signal_type: str
    value: str
    classification: str | None
    source_ref: str | None
    added_by: str
    created_at: datetime
    enabled: bool
    quarantined_at: datetime | None
    quarantine_reason: str | None


class EntryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    release_quarantine: bool = False
