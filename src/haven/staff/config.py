"""Settings of staff sign-in, training and wellness, from `HAVEN_` environment variables.

Kept apart from `haven.core.settings` so the capability owns its knobs; every field maps to
`HAVEN_<NAME>` like the core settings.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class StaffSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAVEN_", env_file=None, extra="ignore")

    #: A session ends this long after sign-in, or after this long without a request.
    session_hours: float = 12.0
    session_idle_minutes: float = 60.0
    #: Set-up links are valid this long.
    setup_link_hours: float = 72.0
    #: Failed sign-ins (password or code) before a lockout; each further failure doubles it.
    lockout_after: int = 5
    lockout_base_seconds: float = 30.0
    lockout_max_seconds: float = 3600.0
    #: Training must have been completed within this many months to claim child-safety tasks.
    training_refresh_months: int = 12
    #: Default exposure budgets: child-safety items decided per session and per day.
    exposure_per_session: int = 40
    exposure_per_day: int = 120
    #: Cookies carry the Secure flag unless this is false (a plain-HTTP development run on a
    #: host other than localhost needs false; browsers accept Secure cookies on localhost).
    cookie_secure: bool = True


@lru_cache(maxsize=1)
def staff_settings() -> StaffSettings:
    return StaffSettings()
