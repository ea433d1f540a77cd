"""Settings of CyberTipline reporting (`HAVEN_CYBERTIP_*`)."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

URLS = {
    "production": "https://report.cybertip.org/ispws",
    "test": "https://exttest.cybertip.org/ispws",
}


class CybertipSettings(BaseSettings):
    """Test and production are separate NCMEC environments with separate credentials; a
    deployment talks to one at a time, and every report remembers which one it went to."""

    model_config = SettingsConfigDict(env_prefix="HAVEN_CYBERTIP_", env_file=None, extra="ignore")

    environment: Literal["test", "production"] = "test"
    url: str = ""
    username: str = ""
    password: SecretStr = SecretStr("")
    #: Credentials (and address, when not NCMEC's) of the test environment, used for cases from
    #: test-mode keys' traffic when the deployment reports to production (haven.cybertip.mode).
    test_url: str = ""
    test_username: str = ""
    test_password: SecretStr = SecretStr("")
    timeout_seconds: float = 60.0
    #: The reporting person (an email is required by the schema) and what the report says
    #: about the service.
    reporter_email: str = ""
    reporter_first_name: str = ""
    reporter_last_name: str = ""
    platform: str = ""
    esp_service: str = ""
    company_template: str = ""
    terms_of_service: str = ""
    legal_url: str = ""
    #: Finish well before NCMEC deletes an open report (24 h after opening / 1 h after the last change).
    deadline_margin_seconds: int = 600
    max_submissions: int = 5

    @property
    def base_url(self) -> str:
        return (self.url or URLS[self.environment]).rstrip("/")

    @property
    def configured(self) -> bool:
        return bool(self.username and self.password.get_secret_value())


def cybertip_settings() -> CybertipSettings:
    """Read from the environment on each call, so a credential fix takes effect without restart."""
    return CybertipSettings()
