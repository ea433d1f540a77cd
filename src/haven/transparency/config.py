"""Settings of transparency reports, from `HAVEN_` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TransparencySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAVEN_", env_file=None, extra="ignore")

    #: The service's name as printed on reports and the safety centre.
    service_name: str = "this service"
    #: Counts below this are published as "<N" (haven.transparency.suppress). 10 follows common
    #: statistical-disclosure practice for small populations; never below 2.
    transparency_min_count: int = 10
    #: Where `haven transparency publish` writes reports the safety centre lists (default:
    #: `<var_dir>/transparency`).
    transparency_dir: Path | None = None
    #: A safety nudge counts as followed by a report or a block within this many hours of it.
    transparency_nudge_follow_hours: float = Field(24.0, gt=0, le=24 * 30)


@lru_cache(maxsize=1)
def transparency_settings() -> TransparencySettings:
    return TransparencySettings()
