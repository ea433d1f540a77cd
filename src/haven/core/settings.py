"""Settings from `HAVEN_` environment variables, with defaults that are safe for a local run."""

from __future__ import annotations

import base64
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All configuration in one typed object; every field maps to `HAVEN_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="HAVEN_", env_file=None, extra="ignore")

    var_dir: Path = Path("var")
    database_url: str = ""
    environment: str = Field("development", description="development or production")
    log_format: str = Field("auto", description="json, console, or auto (json in production)")
    log_level: str = "INFO"

    # Intake limits.
    max_upload_bytes: int = 50 * 1024 * 1024
    # 50 MP holds every photo a phone or camera writes by default (12-48 MP; 200 MP sensors
    # bin to 12 MP unless the owner opts in) and a scan at 600 dpi of a letter page (~35 MP).
    max_image_pixels: int = 50_000_000
    max_lookup_batch: int = 1000
    # Memory one upload's decode may take (estimated from the header before decoding: pixels x
    # bytes per pixel of the stored mode, 16-bit and alpha included, plus the working copies).
    max_decode_bytes: int = 1024 * 1024 * 1024
    # Decodes running at once in one process; an upload that waits longer than
    # decode_wait_seconds for a slot gets 503 with Retry-After.
    max_concurrent_decodes: int = 2
    decode_wait_seconds: float = 5.0
    # Request bodies of /v1 routes (JSON and forms other than the upload and the bank import),
    # refused with 413 from Content-Length or while they stream, after authentication.
    max_json_body_bytes: int = 1024 * 1024
    # Idempotency-Key answers are kept this long.
    idempotency_ttl_seconds: int = 24 * 3600

    # Matching.
    pdq_default_threshold: int = 31
    pdq_min_quality: int = 50
    query_dihedral: bool = True
    query_trim_borders: bool = True
    index_refresh_seconds: float = 1.0

    # Flood protection: an entry matching more distinct uploads than this in the window is
    # quarantined (a viral benign image mistakenly banked must not mass-block a service).
    flood_max_distinct: int = 50
    flood_window_seconds: int = 3600

    # Quarantine of blocked or held media: AES-256-GCM key, base64 of 32 bytes. When empty in
    # development a key is generated once into var/ so that a local run works; production must set it.
    quarantine_key: SecretStr = SecretStr("")

    # Run a job worker thread inside the API process (the embedded default, so `make run` is
    # the whole system). Large deployments set it false and run `haven worker` processes.
    inline_worker: bool = True

    # Classifiers (haven.classify). Which classifiers run on each surface ("*" = every other
    # surface); names: opennsfw, apparent_age, thorn_safer, google_csapi, hive, conversation. One that
    # is not installed or not configured is skipped and its absence recorded with the content.
    classifiers: dict[str, list[str]] = {"*": ["opennsfw", "apparent_age"]}
    # Score thresholds ("classifier.label") above which policy proposes a review (never a block).
    # Uncalibrated starting points: no real positives exist to calibrate on (docs/classifiers.md).
    explicit_threshold: float = 0.6  # opennsfw score that counts as "explicit" for the priority
    apparent_minor_threshold: float = 0.5  # apparent_age.minor score that counts as a minor signal
    # External classifiers: each is used only when its URL and key are set.
    thorn_safer_url: str = ""
    thorn_safer_key: SecretStr = SecretStr("")
    google_csapi_url: str = "https://contentsafety.googleapis.com"
    google_csapi_key: SecretStr = SecretStr("")
    hive_url: str = "https://api.thehive.ai"
    hive_key: SecretStr = SecretStr("")
    external_timeout_seconds: float = 5.0
    breaker_failures: int = 5  # consecutive failures that open a circuit breaker
    breaker_reset_seconds: float = 30.0
    # Video: analysed in the request up to this duration, by the worker beyond it.
    video_inline_max_seconds: float = 10.0
    video_sample_frames: int = 16  # frames given to the imagery classifiers
    # Conversations: grooming and sextortion warnings (scores in [0, 1]).
    grooming_warn_threshold: float = 0.5
    sextortion_warn_threshold: float = 0.5
    semantic_detector: bool = False  # opt in (needs the `semantic` extra; ~10 ms per message)

    # The server.
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"

    @field_validator("var_dir")
    @classmethod
    def _absolute(cls, v: Path) -> Path:
        return v.resolve()

    @property
    def effective_database_url(self) -> str:
        """The configured database, or SQLite under `var_dir` for the embedded default."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_dir / 'haven.db'}"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def quarantine_key_bytes(self) -> bytes:
        """Return the 32-byte quarantine key, creating a development key file when unset."""
        raw = self.quarantine_key.get_secret_value()
        if raw:
            key = base64.b64decode(raw)
            if len(key) != 32:
                raise ValueError("HAVEN_QUARANTINE_KEY must be base64 of exactly 32 bytes")
            return key
        if self.is_production:
            raise ValueError("HAVEN_QUARANTINE_KEY must be set in production")
        path = self.var_dir / "dev-quarantine.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
            path.chmod(0o600)
        return base64.b64decode(path.read_text().strip())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
