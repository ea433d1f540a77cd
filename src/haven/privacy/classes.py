"""The data classes: one retention sweep each, with its default period.

A deployment changes a period with `HAVEN_PRIVACY_RETENTION_DAYS` (JSON, class -> days); the
defaults are the shortest that still serve the purpose declared in the inventory.
"""

from __future__ import annotations

from dataclasses import dataclass

from haven.core.settings import Settings


@dataclass(frozen=True)
class DataClass:
    name: str
    default_days: int
    what: str
    enforced_by: str = "`haven.privacy.sweeps`"


CLASSES: dict[str, DataClass] = {
    c.name: c
    for c in (
        DataClass(
            "messages.unflagged",
            30,
            "messages of conversations never flagged are deleted that long after the conversation's last "
            "message; the conversation keeps its scores (numbers only: evidence passages stripped from the "
            "detector state)",
        ),
        DataClass(
            "content.uploader",
            30,
            "allowed content: uploader, recipients, IP and the service's item id are dropped (hashes and "
            "verdict kept for retroaction)",
        ),
        DataClass(
            "content.allowed",
            90,
            "allowed content records (hashes, verdict, video hashes) are deleted; match with HAVEN_EXCHANGE_RETRO_DAYS",
        ),
        DataClass(
            "media.cleared",
            0,
            "held media a reviewer cleared as no violation: the encrypted file is deleted at the decision "
            "(subscriber on review.decision), and any missed by the sweep",
        ),
        DataClass(
            "matchlog",
            365,
            "match log rows older than this are unlinked from the upload (content id cleared; bank, entry, "
            "classification and time kept for counts)",
        ),
        DataClass(
            "ledger.payloads",
            365,
            "ledger events older than this: account ids and free text in the payload and the subject id "
            "are pseudonymised (type, subject kind and time kept for transparency counts)",
        ),
        DataClass(
            "reports.contact",
            365,
            "user reports resolved that long ago: reporter name and e-mail removed, reporter id pseudonymised",
        ),
        DataClass(
            "files.orphans",
            1,
            "quarantine and evidence files with no row (a failed commit) older than this are deleted",
        ),
        DataClass(
            "youth.signals",
            0,
            "expired age signals, by youth's own period (assurance.retention_days)",
            "`haven.youth.service.purge_expired`, run by the sweep",
        ),
        DataClass(
            "idempotency", 1, "idempotency answers after HAVEN_IDEMPOTENCY_TTL_SECONDS", "haven.intake.idempotency"
        ),
        DataClass("contacts", 365, "contact rows (who messaged whom) idle that long are deleted"),
        DataClass("audit", 1095, "audit records older than this: actor pseudonymised, IP removed"),
        DataClass("jobs", 30, "finished and dead jobs deleted (their payloads name accounts)"),
        DataClass("webhooks", 30, "delivered webhooks deleted (dead ones too, after the period)"),
        DataClass("staff.sessions", 30, "staff sessions (IP, browser) expired that long ago are deleted"),
        DataClass("youth.activity", 90, "minors' activity metadata deleted"),
        DataClass("evidence", 365, "the vault's own purge (1 year, holds win)", "`haven.evidence` (evidence.purge)"),
    )
}


def days(settings: Settings, name: str) -> int:
    """The period of a class in this deployment."""
    configured = settings.privacy_retention_days.get(name)
    return CLASSES[name].default_days if configured is None else int(configured)
