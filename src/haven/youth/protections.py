"""Minors' default protections: the settings the service must apply to an account, from its
assured age, the region's rule and any approved loosening, each naming the rule that gave it.
Pure: same inputs, same settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from haven.accounts.bands import MINOR_BANDS, level_rank
from haven.youth.assurance import Assured, band_range
from haven.youth.config import SETTINGS, YouthConfig


@dataclass(frozen=True)
class Protections:
    age_band: str
    level: str
    profile: str  # the protections profile applied (a band, or "unassured")
    region: str
    access: str  # "allowed", "denied" (under the region's minimum age) or "reassure"
    settings: dict[str, Any]
    rules: dict[str, str]
    reassure_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "age_band": self.age_band,
            "level": self.level,
            "profile": self.profile,
            "region": self.region,
            "access": self.access,
            "settings": self.settings,
            "rules": self.rules,
        }


def protections(
    cfg: YouthConfig, assured: Assured, region: str | None = None, overrides: dict[str, Any] | None = None
) -> Protections:
    """The settings for an account with this assured age in this region.

    Minors get their band's profile at any level (protection never waits for proof). An adult or
    unknown age assured below the region's required level gets the `unassured` profile (Ofcom:
    treat a user as a child until highly effective age assurance says otherwise) and access
    "reassure". An age under the region's minimum is access "denied". `overrides` are loosenings
    a guardian approved (or an older teen chose); each names its own rule."""
    key, rule = cfg.region(region)
    band, level = assured.age_band, assured.level
    profile = band
    access = "allowed"
    reason = None
    region_rule = f"region.{key}"
    if band not in MINOR_BANDS and level_rank(level) < level_rank(rule.required_level):
        profile = "unassured"
        access = "reassure"
        reason = f"region {key} needs level {rule.required_level} for an adult (assured: {level})"
    top = band_range(band)[1]
    if band != "unknown" and top is not None and top < rule.minimum_age:
        access = "denied"
        reason = None
    settings = dict(cfg.protections[profile])
    rules = {s: f"protections.{profile}" for s in SETTINGS}
    rules["access"] = f"{region_rule}.required_level" if access == "reassure" else f"{region_rule}.minimum_age"
    for name, value in (overrides or {}).items():
        if name in settings:
            settings[name] = value
            rules[name] = f"override.{name}"
    return Protections(band, level, profile, key, access, settings, rules, reason)
