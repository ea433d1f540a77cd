"""Settings of the evidence vault (`HAVEN_EVIDENCE_*`)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: 18 U.S.C. 2258A(h)(1): a completed report is a request to preserve for one year.
MIN_RETENTION_DAYS = 365


class EvidenceSettings(BaseSettings):
    """`HAVEN_EVIDENCE_MASTER_KEY` (base64 of 32 bytes) wraps every object's data key;
    `HAVEN_EVIDENCE_RETENTION_DAYS` may be longer than a year (2258A(h)(5)), never shorter."""

    model_config = SettingsConfigDict(env_prefix="HAVEN_EVIDENCE_", env_file=None, extra="ignore")

    master_key: SecretStr = SecretStr("")
    retention_days: int = Field(MIN_RETENTION_DAYS)

    @field_validator("retention_days")
    @classmethod
    def _at_least_a_year(cls, v: int) -> int:
        if v < MIN_RETENTION_DAYS:
            raise ValueError(
                f"HAVEN_EVIDENCE_RETENTION_DAYS must be at least {MIN_RETENTION_DAYS} (18 U.S.C. 2258A(h))"
            )
        return v


def evidence_settings() -> EvidenceSettings:
    """Read from the environment on each call (cheap), so tests and operators can change it."""
    return EvidenceSettings()
