"""What exchange stores, declared for the data inventory (`haven.core.inventory`,
docs/data-inventory.md). A new column must be declared here, as personal or not."""

from __future__ import annotations

from haven.core.inventory import TableData

DATA: tuple[TableData, ...] = (
    TableData(
        table="exchange_entries",
        purpose="Entries received from hash exchanges",
        basis="none",
        retention="until the exchange deletes or expires them",
        end="delete",
        other=(
            "id exchange_id list_name upstream_id signal_type upstream_type value bank_entry_id "
            "contributor classification labels unmatched_reason fetched_at updated_at expires_at "
            "deleted_at confirmed overturned disputed_at"
        ),
        access="admin",
    ),
    TableData(
        table="exchange_feedback",
        purpose="Feedback sent to exchanges",
        basis="none",
        retention="kept while Haven runs (no personal data)",
        end="keep",
        other="id exchange_id entry_id sentiment decision_id status attempts last_error created_at sent_at",
        access="admin",
    ),
    TableData(
        table="exchange_lists",
        purpose="Lists of an exchange",
        basis="none",
        retention="kept while Haven runs (no personal data)",
        end="keep",
        other="id exchange_id list_name bank_id classification",
        access="admin",
    ),
    TableData(
        table="exchange_partners",
        purpose="Haven partners of the feed",
        basis="staff_contract",
        retention="kept while Haven runs (no personal data)",
        end="keep",
        personal={
            "approved_by": "staff id",
        },
        other="id name integration_id bank_ids sharing_enabled approved_at entry_ttl_days created_at",
        access="admin",
    ),
    TableData(
        table="exchanges",
        purpose="Configured hash exchanges (credentials sealed)",
        basis="none",
        retention="kept while Haven runs (no personal data)",
        end="keep",
        other=(
            "id name kind base_url config credentials_sealed enabled trust_mode fetch_interval_seconds "
            "dispute_threshold checkpoint last_fetch_at last_success_at last_error last_error_code "
            "entries_in entries_out created_at"
        ),
        access="admin",
    ),
)
