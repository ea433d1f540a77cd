"""Settings of finance, from `HAVEN_FINANCE_` environment variables (beside the core settings,
so this capability adds its own without editing the shared class)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class FinanceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAVEN_FINANCE_", env_file=None, extra="ignore")

    #: A rules file replacing the shipped `haven/finance/defaults/rules.yaml`.
    rules_file: Path | None = None
    #: The windows aggregates are kept over (each at a resolution of a sixtieth of it).
    windows: list[str] = Field(default_factory=lambda: ["1h", "24h", "7d", "30d"])
    #: How far in the future `occurred_at` may be (clock skew) before it is refused.
    future_skew_seconds: int = Field(300, ge=0)
    #: How far in the past `occurred_at` may be (a late batch), before it is refused.
    max_age_days: int = Field(90, ge=1)
    #: Buckets are kept this long past their window, for late payments (haven.finance.jobs).
    prune_grace_hours: int = Field(24, ge=0)
    #: Rows deleted per transaction by the prune job, and at most per run.
    prune_batch: int = Field(5000, ge=1)
    prune_max_rows: int = Field(200_000, ge=1)
    #: Helplines shown to a minor in the sextortion intervention (JSON in the environment).
    local_hotline: str = ""


@lru_cache(maxsize=1)
def get_finance_settings() -> FinanceSettings:
    return FinanceSettings()
