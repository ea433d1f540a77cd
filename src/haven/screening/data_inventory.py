"""What screening stores, declared for the data inventory (`haven.core.inventory`,
docs/data-inventory.md). A new column must be declared here, as personal or not."""

from __future__ import annotations

from haven.core.inventory import TableData

DATA: tuple[TableData, ...] = (
    TableData(
        table="content_items",
        purpose=(
            "Each upload screened: hashes and verdict (kept for retroaction against new hashes), uploader"
            " and IP (kept for enforcement)"
        ),
        basis="legitimate_interests",
        retention=(
            "allowed content: uploader, recipients and IP dropped after 30 days, the row after 90 days "
            "(HAVEN_EXCHANGE_RETRO_DAYS); blocked or held content: while its case or hold lasts"
        ),
        end="delete",
        data_class="content.allowed",
        subject=("uploader",),
        personal={
            "uploader": "account id of the uploader",
            "recipients": "account ids the content was sent to",
            "ip": "IP address of the uploader",
            "external_id": "the service's id of the item",
            "scores": "classifier scores (may include apparent age)",
        },
        other=(
            "id integration_id media_kind content_type surface created_at received_at size_bytes md5 sha1"
            " sha256 pdq pdq_quality width height verdict verdict_rule verdict_reason quarantine_id"
        ),
        access="reviewers (with the task), the service via the API",
    ),
    TableData(
        table="policy_rulesets",
        purpose="Installed rule sets",
        basis="staff_contract",
        retention="kept while Haven runs (no personal data)",
        end="keep",
        personal={
            "created_by": "staff id",
        },
        other="id revision version terms_version source promoted active created_at details",
        access="admin",
    ),
    TableData(
        table="quarantine_objects",
        purpose="Encrypted bytes of blocked or held media",
        basis="legitimate_interests",
        retention=(
            "held media cleared as no violation: deleted at the decision; otherwise until the vault takes"
            " over or the case ends"
        ),
        end="delete",
        data_class="media.cleared",
        personal={
            "content_id": "content id",
            "path": "location of the encrypted file",
        },
        other="id sha256 size_bytes content_type key_id created_at deleted_at",
        access="reviewers (audited media.view)",
    ),
    TableData(
        table="video_signals",
        purpose="Video hashes",
        basis="legitimate_interests",
        retention="with the content item",
        end="delete",
        data_class="content.allowed",
        personal={
            "content_id": "content id",
        },
        other="status duration frame_count vpdq error created_at analysed_at",
        access="none",
    ),
)
