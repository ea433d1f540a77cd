"""The youth configuration: methods and levels, regions, protections per band, guardian rules.

A YAML file (the shipped `defaults/youth.yaml`, or `HAVEN_YOUTH_FILE`), checked into typed
models when it is read, so a wrong file fails at start-up with every problem named, never in
the middle of a request. Pure apart from reading that one file.
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from haven.accounts.bands import AGE_BANDS

Level = Literal["asserted", "standard", "enhanced", "strict"]
#: The methods the contract names; a configuration may describe them, never add unknown ones.
METHODS = (
    "self_declaration",
    "os_declared_range",
    "facial_estimation",
    "id_document",
    "digital_identity",
    "credit_card",
    "open_banking",
    "mobile_operator",
    "guardian_attestation",
    "inference",
)
SETTINGS = (
    "dm_from",
    "discoverable",
    "friend_suggestions",
    "connections_visible",
    "location_sharing",
    "sensitive_media",
    "quiet_hours",
    "daily_reminder_minutes",
)


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Method(_Closed):
    max_level: Level
    valid_days: int | None = Field(None, ge=1)
    decides: bool = True
    description: str = ""


class Assurance(_Closed):
    methods: dict[str, Method]
    conflict_lowers_level: bool = True
    retention_days: int = Field(400, ge=1)

    @model_validator(mode="after")
    def _known(self) -> Assurance:
        unknown = sorted(set(self.methods) - set(METHODS))
        if unknown:
            raise ValueError(f"unknown method(s): {', '.join(unknown)}")
        return self


class Region(_Closed):
    minimum_age: int = Field(13, ge=0, le=21)
    required_level: Level = "asserted"


class Guardians(_Closed):
    approval_below_age: int = Field(16, ge=0, le=18)
    purchase_cap: dict[str, int] = Field(default_factory=dict)
    code_minutes: int = Field(15, ge=1, le=24 * 60)
    fan_out_review: int = Field(3, ge=1)


class YouthConfig(_Closed):
    version: str
    assurance: Assurance
    regions: dict[str, Region]
    protections: dict[str, dict[str, Any]]
    guardians: Guardians = Guardians()
    source: str = "defaults/youth.yaml"

    @model_validator(mode="after")
    def _complete(self) -> YouthConfig:
        if "default" not in self.regions:
            raise ValueError("regions needs a 'default' entry")
        for profile in (*AGE_BANDS, "unassured"):
            if profile not in self.protections:
                raise ValueError(f"protections needs a '{profile}' profile")
            missing = [s for s in SETTINGS if s not in self.protections[profile]]
            if missing:
                raise ValueError(f"protections.{profile} lacks {', '.join(missing)}")
        return self

    def method(self, name: str) -> Method | None:
        return self.assurance.methods.get(name)

    def region(self, code: str | None) -> tuple[str, Region]:
        key = (code or "").upper()
        return (key, self.regions[key]) if key in self.regions else ("default", self.regions["default"])


class ConfigError(ValueError):
    pass


def parse(text: str, source: str) -> YouthConfig:
    try:
        raw = yaml.safe_load(text)
        return YouthConfig.model_validate({**raw, "source": source})
    except (yaml.YAMLError, TypeError) as exc:
        raise ConfigError(f"{source}: not a youth configuration: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False))
        raise ConfigError(f"{source}: {problems}") from None


@lru_cache(maxsize=4)
def _load(path: str | None) -> YouthConfig:
    if path:
        return parse(Path(path).read_text(), path)
    return parse(resources.files("haven.youth").joinpath("defaults/youth.yaml").read_text(), "defaults/youth.yaml")


def get_config() -> YouthConfig:
    """The configuration in force (`HAVEN_YOUTH_FILE`, else the shipped one)."""
    return _load(os.environ.get("HAVEN_YOUTH_FILE") or None)
