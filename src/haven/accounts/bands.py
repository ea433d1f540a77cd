"""Age bands: declared today, assured by the youth capability next. Pure constants, no I/O, so that
detectors and priorities can import them without the accounts tables."""

from __future__ import annotations

from typing import Literal, get_args

#: Declared (later: assured) age bands of an account; the youth capability will extend them.
AgeBand = Literal["under_13", "13_15", "16_17", "adult", "unknown"]
AGE_BANDS: tuple[str, ...] = get_args(AgeBand)
#: The bands that mean a minor: used by detection, priorities and reporting alike.
MINOR_BANDS = frozenset({"under_13", "13_15", "16_17"})

#: Confidence levels of an assured age, weakest first (IEEE 2089.1: asserted, standard,
#: enhanced, strict). "none" is an account nothing assures. Pure constants for policy and youth.
AssuranceLevel = Literal["none", "asserted", "standard", "enhanced", "strict"]
ASSURANCE_LEVELS: tuple[str, ...] = get_args(AssuranceLevel)


def level_rank(level: str | None) -> int:
    """The order of a level (unknown levels rank as "none")."""
    return ASSURANCE_LEVELS.index(level) if level in ASSURANCE_LEVELS else 0
