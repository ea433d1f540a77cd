"""Test-mode traffic never reaches NCMEC production.

A report case whose content or conversation came in through a test-mode key is submitted to the
CyberTipline *test* environment, whatever HAVEN_CYBERTIP_ENVIRONMENT says: with the test
credentials (`HAVEN_CYBERTIP_TEST_USERNAME` / `_PASSWORD`, and `_TEST_URL` for a double) when the
deployment reports to production. Without test credentials the case pauses for credentials
(code 2000) rather than using production's: a test key can never cause a real report.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from haven.cybertip.config import CybertipSettings
from haven.cybertip.models import ReportCase
from haven.screening.mode import traffic_is_test


def case_is_test(session: Session, case: ReportCase) -> bool:
    content = list(case.content_ids or []) + ([case.subject_id] if case.subject_type == "content" else [])
    conversations = [case.subject_id] if case.subject_type == "conversation" else []
    return traffic_is_test(session, content_ids=content, conversation_ids=conversations)


def settings_for_case(session: Session, case: ReportCase, cfg: CybertipSettings) -> CybertipSettings:
    """The CyberTipline settings a case is submitted with: the configured ones, or the test
    environment's for a case from test-mode traffic."""
    if cfg.environment == "test" or not case_is_test(session, case):
        return cfg
    return cfg.model_copy(
        update={
            "environment": "test",
            "url": cfg.test_url,
            "username": cfg.test_username,
            "password": cfg.test_password,
        }
    )
