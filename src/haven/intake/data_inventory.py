"""What intake stores, declared for the data inventory (`haven.core.inventory`,
docs/data-inventory.md). A new column must be declared here, as personal or not."""

from __future__ import annotations

from haven.core.inventory import TableData

DATA: tuple[TableData, ...] = (
    TableData(
        table="idempotency_keys",
        purpose="Answers kept for retried requests",
        basis="contract",
        retention="24 hours (HAVEN_IDEMPOTENCY_TTL_SECONDS)",
        end="delete",
        data_class="idempotency",
        personal={
            "response": "the answer sent (may hold account ids)",
        },
        other="integration_id route key fingerprint status_code created_at",
        access="none",
    ),
)
