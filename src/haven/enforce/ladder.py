"""Strikes and the enforcement ladder: pure arithmetic over a YAML configuration.

Anchors: Ozone's severity levels (strike count, first-occurrence count, expiry in days, strike
thresholds to suspension durations) and Coop's strike windows. Unlike Ozone, the ladder is a
file (not environment variables) and warnings without strikes exist (mastodon#22807); strikes
expire (mastodon#17552) and overturned decisions remove theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from haven.policy.categories import CATEGORIES

LadderAction = Literal["warning", "restrict", "suspend", "terminate"]
FEATURES = ("messaging", "uploads", "live", "payments")


class Severity(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    strike: int = Field(ge=0)
    first_offence: int = Field(ge=0)
    expiry_days: int | None = Field(None, ge=1)


class Threshold(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    points: int = Field(ge=1)
    action: Literal["restrict", "suspend", "terminate"]
    features: list[Literal["messaging", "uploads", "live", "payments"]] = Field(default_factory=list)
    duration_days: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _shape(self) -> Threshold:
        if self.action == "restrict" and not self.features:
            raise ValueError("a restrict threshold names its features")
        if self.action == "terminate" and self.duration_days is not None:
            raise ValueError("termination has no duration")
        return self


class LadderConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    severities: dict[str, Severity]
    categories: dict[str, str]
    thresholds: list[Threshold]

    @model_validator(mode="after")
    def _consistent(self) -> LadderConfig:
        for cat, sev in self.categories.items():
            if cat not in CATEGORIES:
                raise ValueError(f"unknown category '{cat}'")
            if sev not in self.severities:
                raise ValueError(f"category '{cat}' has unknown severity '{sev}'")
        missing = sorted(set(CATEGORIES) - set(self.categories))
        if missing:
            raise ValueError(f"categories without a severity: {', '.join(missing)}")
        points = [t.points for t in self.thresholds]
        if points != sorted(points) or len(set(points)) != len(points):
            raise ValueError("thresholds must be in increasing order of points")
        return self


def parse_ladder(text: str) -> LadderConfig:
    try:
        return LadderConfig.model_validate(yaml.safe_load(text))
    except (ValidationError, yaml.YAMLError) as exc:
        raise ValueError(f"invalid ladder configuration: {exc}") from None


@lru_cache(maxsize=4)
def load_ladder(path: Path | None = None) -> LadderConfig:
    """The configured ladder: `path` (HAVEN_LADDER_FILE), else the shipped default."""
    text = (
        path.read_text()
        if path is not None
        else resources.files("haven.enforce").joinpath("defaults/ladder.yaml").read_text()
    )
    return parse_ladder(text)


@dataclass(frozen=True)
class StrikeView:
    """A strike as the arithmetic sees it."""

    category: str
    points: int
    created_at: datetime
    expires_at: datetime | None
    removed: bool = False

    def active(self, at: datetime) -> bool:
        return not self.removed and self.created_at <= at and (self.expires_at is None or self.expires_at > at)


@dataclass(frozen=True)
class Outcome:
    """What a new violation does to an account."""

    action: LadderAction
    severity: str
    points_added: int
    points_before: int
    points_after: int
    strike_expires_at: datetime | None
    features: tuple[str, ...] = ()
    duration_days: int | None = None
    zero_tolerance: bool = False
    first_offence: bool = False
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "action": self.action,
            "severity": self.severity,
            "points_added": self.points_added,
            "points_before": self.points_before,
            "points_after": self.points_after,
            "features": list(self.features),
            "duration_days": self.duration_days,
            "zero_tolerance": self.zero_tolerance,
            "first_offence": self.first_offence,
            "strike_expires_at": self.strike_expires_at.isoformat() if self.strike_expires_at else None,
        }


def active_points(strikes: list[StrikeView], at: datetime) -> int:
    return sum(s.points for s in strikes if s.active(at))


def assess(
    cfg: LadderConfig,
    category: str,
    strikes: list[StrikeView],
    at: datetime,
    *,
    severity: str | None = None,
    prior_in_category: int | None = None,
) -> Outcome:
    """The outcome of a new violation in `category` at `at`, given the account's strikes.

    `prior_in_category` counts the account's earlier violations in the category that stand
    (including warnings, which leave no strike); without it, earlier strikes are counted.
    """
    cat = CATEGORIES[category]
    sev_name = severity or cfg.categories[category]
    if sev_name not in cfg.severities:
        raise ValueError(f"unknown severity '{sev_name}'")
    sev = cfg.severities[sev_name]
    if prior_in_category is None:
        prior_in_category = sum(1 for s in strikes if s.category == category and not s.removed)
    first = prior_in_category == 0
    added = sev.first_offence if first else sev.strike
    before = active_points(strikes, at)
    after = before + added
    expires = at + timedelta(days=sev.expiry_days) if (added and sev.expiry_days) else None
    common = {
        "severity": sev_name,
        "points_added": added,
        "points_before": before,
        "points_after": after,
        "strike_expires_at": expires,
        "first_offence": first,
    }
    if cat.zero_tolerance:
        return Outcome(action="terminate", zero_tolerance=True, **common)  # type: ignore[arg-type]
    crossed = [t for t in cfg.thresholds if before < t.points <= after]
    if not crossed:
        return Outcome(action="warning", **common)  # type: ignore[arg-type]
    t = crossed[-1]
    return Outcome(
        action=t.action,
        features=tuple(t.features),
        duration_days=t.duration_days,
        **common,  # type: ignore[arg-type]
    )
