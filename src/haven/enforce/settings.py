"""Settings of enforcement, from `HAVEN_` environment variables (kept beside the core settings so
that this capability adds its own without editing the shared class)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class EnforceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAVEN_", env_file=None, extra="ignore")

    # Webhook endpoint of the service, used when none is configured through the API.
    webhook_url: str = ""
    webhook_secret: SecretStr = SecretStr("")
    webhook_timeout_seconds: float = 10.0
    #: Attempts before a delivery is dead-lettered; with the back-off below, about a day.
    webhook_max_attempts: int = 16
    webhook_backoff_base_seconds: float = 2.0
    webhook_backoff_cap_seconds: float = 3600.0

    # Strikes and ladder: a YAML file replacing the shipped defaults/ladder.yaml.
    ladder_file: Path | None = None

    # Statements of reasons.
    notice_locale: str = "en"
    #: A folder of `<locale>/` template folders searched before the shipped ones: translations and
    #: the operator's own wording without changing Haven.
    notice_templates_dir: Path | None = None
    service_name: str = "the service"
    #: Where users find certified out-of-court dispute settlement bodies (DSA Art 21).
    dispute_settlement_url: str = (
        "https://digital-strategy.ec.europa.eu/en/policies/dsa-out-of-court-dispute-settlement"
    )
    #: Where users file an appeal in the service (shown in every statement).
    appeal_url: str = ""

    # Appeals (DSA Art 20: at least six months).
    appeal_window_days: int = Field(183, ge=183)

    # User reports.
    #: Reporter ids of trusted flaggers (DSA Art 22), as a JSON list in the environment.
    trusted_flaggers: list[str] = Field(default_factory=list)
    reporter_suspension_days: int = 30

    # DSA Transparency Database.
    tdb_url: str = ""
    tdb_token: SecretStr = SecretStr("")
    tdb_batch_size: int = Field(100, ge=1, le=100)
    #: Territorial scope of restrictions (EU/EEA ISO codes); empty means all of them.
    territorial_scope: list[str] = Field(default_factory=list)


@lru_cache(maxsize=1)
def get_enforce_settings() -> EnforceSettings:
    return EnforceSettings()
