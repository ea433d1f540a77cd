"""What notices stores, declared for the data inventory (`haven.core.inventory`,
docs/data-inventory.md). A new column must be declared here, as personal or not."""

from __future__ import annotations

from haven.core.inventory import TableData

DATA: tuple[TableData, ...] = (
    TableData(
        table="notice_cases",
        purpose="Cases of user reports (DSA Art 16)",
        basis="legal_obligation",
        retention="5 years after closing",
        end="keep",
        personal={
            "target_id": "reported account or content id",
            "location_url": "URL reported",
        },
        other=(
            "id target_type status priority category reports_count trusted_reports opened_at closed_at "
            "outcome decision_id"
        ),
        access="reviewers, admin",
    ),
    TableData(
        table="reporter_standing",
        purpose="Misuse of the reporting channel (DSA Art 23)",
        basis="legal_obligation",
        retention="1 year after the last unfounded report",
        end="delete",
        subject=("reporter_id",),
        personal={
            "reporter_id": "reporter's id",
            "reason": "reason",
        },
        other="unfounded_count warned_at suspended_until updated_at",
        access="admin",
    ),
    TableData(
        table="user_reports",
        purpose="User reports (DSA Art 16 notices)",
        basis="legal_obligation",
        retention="reporter name and e-mail: 1 year after the report is resolved; the report: 5 years",
        end="pseudonymise",
        data_class="reports.contact",
        subject=("reporter_id",),
        personal={
            "reporter_id": "reporter's account id",
            "reporter_name": "reporter's name (sealed at rest)",
            "reporter_email": "reporter's e-mail (sealed at rest)",
            "explanation": "reporter's explanation",
            "location_url": "URL reported",
        },
        other=(
            "id case_id integration_id trusted_flagger category good_faith imminent_risk notify_outcome "
            "status received_at resolved_at"
        ),
        access="reviewers",
    ),
)
