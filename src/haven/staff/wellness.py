"""Per-reviewer wellness preferences with the organisation's defaults and limits."""

from __future__ import annotations

from typing import Any

from haven.core.errors import Invalid
from haven.staff.config import StaffSettings, staff_settings

BLUR_MIN, BLUR_MAX, BLUR_DEFAULT = 8, 60, 24


def preferences(stored: dict[str, Any] | None, config: StaffSettings | None = None) -> dict[str, Any]:
    """The effective preferences: the person's choices over the defaults (blurred, greyscale,
    no autoplay, muted), with budgets never above the organisation's."""
    cfg = config or staff_settings()
    p = dict(stored or {})
    return {
        "blur": int(min(BLUR_MAX, max(BLUR_MIN, int(p.get("blur", BLUR_DEFAULT))))),
        "greyscale": bool(p.get("greyscale", True)),
        "autoplay": bool(p.get("autoplay", False)),
        "muted": bool(p.get("muted", True)),
        "per_session": int(min(cfg.exposure_per_session, max(1, int(p.get("per_session", cfg.exposure_per_session))))),
        "per_day": int(min(cfg.exposure_per_day, max(1, int(p.get("per_day", cfg.exposure_per_day))))),
    }


def limits(config: StaffSettings | None = None) -> dict[str, int]:
    cfg = config or staff_settings()
    return {
        "blur_min": BLUR_MIN,
        "blur_max": BLUR_MAX,
        "per_session": cfg.exposure_per_session,
        "per_day": cfg.exposure_per_day,
    }


def parse_form(form: dict[str, str], config: StaffSettings | None = None) -> dict[str, Any]:
    """Validate the wellness form (checkboxes absent mean off)."""
    cfg = config or staff_settings()
    try:
        blur = int(form.get("blur", BLUR_DEFAULT))
        per_session = int(form.get("per_session", cfg.exposure_per_session))
        per_day = int(form.get("per_day", cfg.exposure_per_day))
    except ValueError:
        raise Invalid("blur and budgets must be whole numbers", code="invalid_preferences") from None
    if not BLUR_MIN <= blur <= BLUR_MAX:
        raise Invalid(f"blur must be between {BLUR_MIN} and {BLUR_MAX}", code="invalid_preferences")
    if not 1 <= per_session <= cfg.exposure_per_session or not 1 <= per_day <= cfg.exposure_per_day:
        raise Invalid("budgets must be at least 1 and at most the organisation's", code="invalid_preferences")
    return {
        "blur": blur,
        "greyscale": form.get("greyscale") == "1",
        "autoplay": form.get("autoplay") == "1",
        "muted": form.get("muted") == "1",
        "per_session": per_session,
        "per_day": per_day,
    }
