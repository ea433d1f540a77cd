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
    #: The lockout above counts failures per (e-mail, source address) pair, so nobody can lock a
    #: staff member out by knowing the e-mail alone; these rate limits (attempts per minute, 0 =
    #: off, per API process) bound a flood from one address and a spread of addresses at one
    #: account. Sources that completed a sign-in for the account (password and second factor)
    #: within `trusted_source_days` are not held back by the per-account limit.
    sign_in_per_ip_per_minute: int = 30
    sign_in_per_account_per_minute: int = 10
    trusted_source_days: float = 30.0
    #: Password hashes (argon2id, ~64 MiB each) computed at once; a sign-in waits at most
    #: `sign_in_hash_wait_seconds` for a slot, then gets 503 with Retry-After.
    sign_in_hash_slots: int = 2
    sign_in_hash_wait_seconds: float = 3.0
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
