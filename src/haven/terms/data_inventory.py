"""What terms stores, declared for the data inventory (`haven.core.inventory`,
docs/data-inventory.md). A new column must be declared here, as personal or not."""

from __future__ import annotations

from haven.core.inventory import TableData

DATA: tuple[TableData, ...] = (
    TableData(
        table="terms_acceptances",
        purpose="Acceptances of terms versions",
        basis="contract",
        retention="while the account exists",
        end="keep",
        subject=("account_id",),
        personal={
            "account_id": "account",
            "accepted_at": "time",
        },
        other="id version integration_id recorded_at",
        access="admin, the service",
    ),
    TableData(
        table="terms_versions",
        purpose="Terms of service versions",
        basis="staff_contract",
        retention="kept while Haven runs (no personal data)",
        end="keep",
        personal={
            "published_by": "staff id",
        },
        other="id version title markdown summary effective_at published_at",
        access="public",
    ),
)
