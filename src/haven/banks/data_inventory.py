"""What banks stores, declared for the data inventory (`haven.core.inventory`,
docs/data-inventory.md). A new column must be declared here, as personal or not."""

from __future__ import annotations

from haven.core.inventory import TableData

DATA: tuple[TableData, ...] = (
    TableData(
        table="bank_entries",
        purpose="Hashes of known material",
        basis="none",
        retention="until removed from the bank or the list",
        end="delete",
        other=(
            "id bank_id signal_type value classification source_ref added_by created_at enabled "
            "quarantined_at quarantine_reason variant_of variant quality change_seq"
        ),
        access="admin, senior",
    ),
    TableData(
        table="banks",
        purpose="Hash banks",
        basis="none",
        retention="kept while Haven runs (no personal data)",
        end="keep",
        other=(
            "id name description kind default_classification pdq_threshold robustness enabled provenance "
            "created_at updated_at"
        ),
        access="admin",
    ),
    TableData(
        table="deleted_bank_entries",
        purpose="Tombstones of deleted bank entries",
        basis="none",
        retention="kept while Haven runs (no personal data)",
        end="keep",
        other="entry_id change_seq",
        access="none",
    ),
    TableData(
        table="matches",
        purpose="The match log: which upload matched which hash",
        basis="legitimate_interests",
        retention=(
            "unlinked from the upload after 365 days (content id cleared, counts kept); allowed uploads: "
            "unlinked when the upload record is deleted (90 days)"
        ),
        end="pseudonymise",
        data_class="matchlog",
        personal={
            "content_id": "id of the upload (links to the uploader)",
        },
        other=(
            "id integration_id source bank_id entry_id signal_type distance classification status "
            "query_variant created_at"
        ),
        access="reviewers, admin",
    ),
)
