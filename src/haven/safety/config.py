"""Settings of the safety centre and report form (theme, limits), from `HAVEN_` variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SafetySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAVEN_SAFETY_", env_file=None, extra="ignore")

    #: Theme: the service's name, a logo served by the service itself (a path on this host,
    #: e.g. /static/logo.png, never another host) and two colours.
    name: str = "this service"
    logo_path: str = Field("", pattern=r"^(/[A-Za-z0-9._/-]*)?$")
    accent: str = Field("#0b5cad", pattern=r"^#[0-9a-fA-F]{6}$")
    background: str = Field("#ffffff", pattern=r"^#[0-9a-fA-F]{6}$")
    #: The service may frame the pages inside its own app from these origins (CSP frame-ancestors).
    embed_origins: list[str] = []
    #: Reports accepted per source address per window (the form is anonymous: this bounds floods).
    form_per_ip: int = 5
    form_window_seconds: int = 600
    #: A form submitted faster than this after it was served is a script, not a person.
    form_min_seconds: float = 3.0
    form_max_age_seconds: float = 7200.0


@lru_cache(maxsize=1)
def safety_settings() -> SafetySettings:
    return SafetySettings()
