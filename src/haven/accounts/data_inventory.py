"""What accounts stores, declared for the data inventory (`haven.core.inventory`,
docs/data-inventory.md). A new column must be declared here, as personal or not."""

from __future__ import annotations

from haven.core.inventory import TableData

DATA: tuple[TableData, ...] = (
    TableData(
        table="account_blocks",
        purpose="Blocks between accounts the service told Haven about, used by the youth protections",
        basis="contract",
        retention="until either account is erased",
        end="delete",
        subject=("blocker", "blocked"),
        personal={
            "blocker": "account id",
            "blocked": "account id",
        },
        other="created_at",
        access="the service via the API",
    ),
    TableData(
        table="accounts",
        purpose="The service's accounts as Haven knows them: age band and standing",
        basis="contract",
        retention="until the account is erased (DSAR erasure)",
        end="pseudonymise",
        subject=("id",),
        personal={
            "id": "the service's account id",
            "age_band": "age band of the account holder (child's data)",
            "age_source": "how the band was learned",
        },
        other="state created_at updated_at",
        access="reviewers, admin",
    ),
    TableData(
        table="contacts",
        purpose="Who messaged whom (first/last time, count, band): unconnected-adult protections",
        basis="legitimate_interests",
        retention="365 days after the last message",
        end="delete",
        data_class="contacts",
        subject=("sender", "recipient"),
        personal={
            "sender": "account id",
            "recipient": "account id",
            "recipient_band": "recipient's age band",
            "first_at": "time of first message",
            "last_at": "time of last message",
            "messages": "number of messages",
        },
        other="",
        access="the youth protections (machine)",
    ),
)
