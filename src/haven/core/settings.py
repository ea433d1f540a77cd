"""Settings from `HAVEN_` environment variables, with defaults that are safe for a local run."""

from __future__ import annotations

import base64
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVED_URL_FILE = "public-url"


def served_url(host: str, port: int) -> str:
    """http://HOST:PORT, with a wildcard bind address shown as the loopback one a browser can open."""
    wildcard = host in ("0.0.0.0", "", "::")  # noqa: S104  (a link to it, not a bind)
    shown = "127.0.0.1" if wildcard else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


class Settings(BaseSettings):
    """All configuration in one typed object; every field maps to `HAVEN_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="HAVEN_", env_file=None, extra="ignore")

    var_dir: Path = Path("var")
    database_url: str = ""
    # A read replica for read-only sessions (console lists, transparency, look-ups' bank names):
    # `Database.reading()` uses it when set; writes always go to `database_url`.
    database_replica_url: str = ""
    # SQLite only: the API process checkpoints the WAL in a background thread this often
    # (seconds; 0 = off), so a request's commit rarely pays for a checkpoint (SQLite's automatic
    # one, at 1,000 WAL pages, stays as the fallback). Measured by bench/finance.py.
    sqlite_checkpoint_seconds: float = 0.25

    # Where sealed files (quarantine, evidence vault) live (haven.core.storage): empty = under
    # var_dir on this disk; `s3://bucket/prefix` = an S3-compatible store (credentials from the
    # AWS chain: environment, profile or role). `s3_endpoint_url` for MinIO, Ceph, GCS interop.
    storage_url: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = ""
    # S3 Object Lock mode of evidence: GOVERNANCE (default; a principal with
    # s3:BypassGovernanceRetention may still destroy on a verified legal request), COMPLIANCE, off.
    storage_object_lock: str = "GOVERNANCE"
    environment: str = Field("development", description="development or production")
    log_format: str = Field("auto", description="json, console, or auto (json in production)")
    log_level: str = "INFO"
    otel_exporter: str = Field(
        "", description="OpenTelemetry traces: otlp (OTEL_EXPORTER_OTLP_* variables), console, or empty for none"
    )

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

    # Cross-industry exchange (haven.exchange): entries that arrive are matched against the
    # hashes of uploads received within this many days (retroaction); 0 turns it off.
    exchange_retro_days: int = 90

    # Privacy (haven.privacy): retention period per data class in days, overriding the defaults
    # (docs/data-inventory.md lists the classes), e.g. {"messages.unflagged": 14}.
    privacy_retention_days: dict[str, int] = Field(default_factory=dict)

    # Quarantine of blocked or held media: AES-256-GCM key, base64 of 32 bytes. When empty in
    # development a key is generated once into var/ so that a local run works; production must set it.
    quarantine_key: SecretStr = SecretStr("")
    # Staff TOTP secrets are sealed (AES-256-GCM) in the database under this key, base64 of 32
    # bytes. When empty it is derived from the quarantine key (HKDF), so no new setting is needed;
    # set it to rotate independently. Rotation: put the old key in `totp_previous_keys`
    # (comma-separated), the new one here, run `haven staff rotate-totp-key`, then drop the old.
    totp_key: SecretStr = SecretStr("")
    totp_previous_keys: SecretStr = SecretStr("")

    # Run a job worker thread inside the API process (the embedded default, so `make run` is
    # the whole system). Large deployments set it false and run `haven worker` processes.
    inline_worker: bool = True

    # Classifiers (haven.classify). Which classifiers run on each surface ("*" = every other
    # surface); names: opennsfw, apparent_age, thorn_safer, google_csapi, hive, conversation. One that
    # is not installed or not configured is skipped and its absence recorded with the content.
    classifiers: dict[str, list[str]] = {"*": ["opennsfw", "apparent_age"]}
    # Run an upload's image classifiers in the request (scores in the answer) rather than in the
    # worker after it (the default: their scores only propose review, and they cost most of an
    # upload's time; haven.screening.deferred).
    classify_inline: bool = False
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
    # The trained message model on top of the rules (classify/conversation/model.py; shipped data,
    # numpy only, ~0.2 ms per message). Off: the rules work alone.
    conversation_model: bool = True

    # Outbound connections (haven.core.outbound): webhooks, external classifiers, the CyberTipline
    # outside test mode and the DSA Transparency Database connect only to public addresses, unless
    # the address is in one of these CIDRs (e.g. ["10.20.0.0/16"] for a service on a private
    # network). Empty by default: loopback, private ranges and cloud metadata are refused.
    outbound_allowed_networks: list[str] = Field(default_factory=list)

    # Secrets Haven keeps in its database (webhook signing secrets) are sealed with AES-256-GCM
    # under this key: base64 of 32 bytes. When empty it is derived from the quarantine key (HKDF).
    # To rotate: put the key in use in `secrets_old_keys` (a JSON list), the new one here, run
    # `haven webhook rewrap`, then drop the old key (docs/operations.md, Security).
    secrets_key: SecretStr = SecretStr("")
    secrets_old_keys: list[SecretStr] = Field(default_factory=list)

    # The server. `public_url` is the address people and services reach Haven at, used in every
    # link Haven prints or sends (set-up links, terms, the demo's curl). Unset, it is the address
    # the last `haven serve` on this var/ recorded (var/public-url), else http://HOST:PORT.
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    public_url: str = ""

    @field_validator("storage_object_lock")
    @classmethod
    def _lock_mode(cls, v: str) -> str:
        if v.upper() not in ("GOVERNANCE", "COMPLIANCE", "OFF", "NONE", ""):
            raise ValueError("HAVEN_STORAGE_OBJECT_LOCK must be GOVERNANCE, COMPLIANCE or off")
        return v.upper()

    @field_validator("var_dir")
    @classmethod
    def _absolute(cls, v: Path) -> Path:
        return v.resolve()

    @model_validator(mode="after")
    def _public_url(self) -> Settings:
        if self.public_url:
            if not self.public_url.startswith(("http://", "https://")):
                raise ValueError(f"HAVEN_PUBLIC_URL must start with http:// or https://, not {self.public_url!r}")
            self.public_url = self.public_url.rstrip("/")
            return self
        recorded = self.var_dir / SERVED_URL_FILE
        if not {"host", "port"} & self.model_fields_set and recorded.is_file():
            self.public_url = recorded.read_text().strip().rstrip("/")
        else:
            self.public_url = served_url(self.host, self.port)
        return self

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

    def derived_key(self, info: bytes) -> bytes:
        """A 32-byte key for one purpose (`info`), derived from the quarantine key with HKDF-SHA256:
        the default of every sealing key, so a deployment needs no setting per purpose."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(self.quarantine_key_bytes())

    def secrets_keys(self) -> list[bytes]:
        """The secrets keys: the current one first, then the old ones (accepted for reading only).
        When HAVEN_SECRETS_KEY is empty the current key is derived from the quarantine key (HKDF),
        so a deployment needs no new setting; set it to rotate independently of the quarantine key."""

        def derived() -> bytes:
            return self.derived_key(b"haven secrets at rest v1")

        raw = self.secrets_key.get_secret_value().strip()
        keys = [base64.b64decode(raw) if raw else derived()]
        keys += [base64.b64decode(k.get_secret_value()) for k in self.secrets_old_keys]
        if raw and (self.quarantine_key.get_secret_value() or (self.var_dir / "dev-quarantine.key").exists()):
            keys.append(derived())  # the derived key stays readable after a first explicit key is set
        if any(len(k) != 32 for k in keys):
            raise ValueError("HAVEN_SECRETS_KEY and HAVEN_SECRETS_OLD_KEYS must be base64 of exactly 32 bytes")
        return keys

    def totp_keys(self) -> list[bytes]:
        """The TOTP sealing keys: the current one first, then previous ones (for reading only)."""
        raw = self.totp_key.get_secret_value().strip()
        current = base64.b64decode(raw) if raw else self.derived_key(b"haven staff totp secrets v1")
        keys = [current] + [
            base64.b64decode(k.strip()) for k in self.totp_previous_keys.get_secret_value().split(",") if k.strip()
        ]
        if any(len(k) != 32 for k in keys):
            raise ValueError("HAVEN_TOTP_KEY and HAVEN_TOTP_PREVIOUS_KEYS must be base64 of exactly 32 bytes")
        return keys


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
