"""Deriving an account's assured age from its age signals. Pure: the same signals and
configuration give the same answer, and the answer says why.

The policy (documented in docs/youth.md, configured in `assurance:`):

1. A signal counts while it is valid: not past its own `expires_at`, nor past its method's
   `valid_days` after `observed_at`. Its level is capped at its method's `max_level`.
2. The strongest valid signal of a method that `decides` wins (highest level, then newest).
3. A valid signal whose age range does not overlap the winner's *conflicts*. A conflict at least
   as strong as the winner, or newer than it (Haven's own inference of an age stated in chat,
   another provider's result), lowers the assured level by one and asks for re-assurance. A
   weaker self-declaration never does, whenever it was made (a teen re-declaring "adult" after an
   ID check is overruled); nor does an older, weaker result.
4. No deciding signal: the band is "unknown" at level "none".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from haven.accounts.bands import ASSURANCE_LEVELS, level_rank
from haven.youth.config import YouthConfig

#: Age ranges of the bands (inclusive; None: open above).
BAND_RANGES: dict[str, tuple[int, int | None]] = {
    "under_13": (0, 12),
    "13_15": (13, 15),
    "16_17": (16, 17),
    "adult": (18, None),
    "unknown": (0, None),
}


def band_range(band: str) -> tuple[int, int | None]:
    return BAND_RANGES[band]


def threshold_range(over: int | None, under: int | None) -> tuple[int, int | None]:
    """`over: 18` means at least 18; `under: 16` means at most 15 (both may be given)."""
    lo = over if over is not None else 0
    hi = under - 1 if under is not None else None
    return lo, hi


def band_of_range(lo: int, hi: int | None) -> str:
    """The band a range means, protectively: the youngest band it may fall in, except that a
    range open below ("under 16") is the band of its top (13_15)."""

    def band(age: int) -> str:
        return "under_13" if age < 13 else "13_15" if age < 16 else "16_17" if age < 18 else "adult"

    if lo == 0 and hi is not None:
        return band(hi)
    return band(lo)


def overlaps(a: tuple[int, int | None], b: tuple[int, int | None]) -> bool:
    a_hi = a[1] if a[1] is not None else 10**6
    b_hi = b[1] if b[1] is not None else 10**6
    return a[0] <= b_hi and b[0] <= a_hi


@dataclass(frozen=True)
class SignalView:
    """One stored age signal as the derivation sees it."""

    id: str
    method: str
    provider: str
    level: str
    min_age: int
    max_age: int | None
    observed_at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Assured:
    age_band: str
    level: str
    method: str | None
    since: datetime | None
    why: list[str] = field(default_factory=list)
    signal_id: str | None = None
    conflicts: list[str] = field(default_factory=list)  # ids of conflicting signals

    @property
    def reassure(self) -> bool:
        return bool(self.conflicts)

    def to_json(self) -> dict[str, object]:
        return {
            "age_band": self.age_band,
            "level": self.level,
            "method": self.method,
            "since": self.since.isoformat() if self.since else None,
            "why": self.why,
            "reassurance_needed": self.reassure,
        }


def effective_level(cfg: YouthConfig, method: str, level: str) -> str:
    m = cfg.method(method)
    if m is None:
        return "none"
    return level if level_rank(level) <= level_rank(m.max_level) else m.max_level


def expiry(cfg: YouthConfig, s: SignalView) -> datetime | None:
    """When the signal stops counting (the earlier of its own expiry and its method's validity)."""
    m = cfg.method(s.method)
    ends = [s.expires_at] if s.expires_at else []
    if m is not None and m.valid_days is not None:
        ends.append(s.observed_at + timedelta(days=m.valid_days))
    return min(ends) if ends else None


def is_valid(cfg: YouthConfig, s: SignalView, at: datetime) -> bool:
    end = expiry(cfg, s)
    return cfg.method(s.method) is not None and (end is None or end > at)


def derive(cfg: YouthConfig, signals: list[SignalView], at: datetime) -> Assured:
    """The assured age at `at` from these signals (see the module docstring for the policy)."""
    valid = [s for s in signals if is_valid(cfg, s, at)]
    deciding = [s for s in valid if cfg.assurance.methods[s.method].decides]
    if not deciding:
        why = ["no valid signal of a deciding method"]
        if valid:
            why.append(f"{len(valid)} inference signal(s) only: they never set the band on their own")
        return Assured("unknown", "none", None, None, why, conflicts=[s.id for s in valid if s.max_age is not None])

    def key(s: SignalView) -> tuple[int, datetime]:
        return (level_rank(effective_level(cfg, s.method, s.level)), s.observed_at)

    win = max(deciding, key=key)
    rng = (win.min_age, win.max_age)
    level = effective_level(cfg, win.method, win.level)
    band = band_of_range(*rng)
    why = [
        f"strongest valid signal: {win.method} ({win.provider}) at level {level}, observed {win.observed_at:%Y-%m-%d}"
    ]
    if level != win.level:
        why.append(f"{win.method} counts at most at level {level} (asked: {win.level})")
    conflicts: list[str] = []
    for s in valid:
        if s.id == win.id or overlaps(rng, (s.min_age, s.max_age)):
            continue
        s_level = effective_level(cfg, s.method, s.level)
        newer = s.observed_at > win.observed_at and s.method != "self_declaration"
        if newer or level_rank(s_level) >= level_rank(level):
            conflicts.append(s.id)
            why.append(
                f"conflicts with {s.method} ({s.provider}, {s_level}, band {band_of_range(s.min_age, s.max_age)}, "
                f"observed {s.observed_at:%Y-%m-%d}): re-assurance needed"
            )
        else:
            why.append(f"overrules an older, weaker {s.method} (band {band_of_range(s.min_age, s.max_age)})")
    if conflicts and cfg.assurance.conflict_lowers_level and level_rank(level) > 1:
        level = ASSURANCE_LEVELS[level_rank(level) - 1]
        why.append(f"level lowered to {level} by the conflict")
    return Assured(band, level, win.method, win.observed_at, why, win.id, conflicts)
