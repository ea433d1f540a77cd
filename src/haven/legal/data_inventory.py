"""What legal stores, declared for the data inventory (`haven.core.inventory`,
docs/data-inventory.md). A new column must be declared here, as personal or not."""

from __future__ import annotations

from haven.core.inventory import TableData

DATA: tuple[TableData, ...] = (
    TableData(
        table="legal_requests",
        purpose="Law-enforcement requests: verification, targets, deadlines",
        basis="legal_obligation",
        retention="5 years after closing",
        end="keep",
        subject=("targets",),
        personal={
            "agency": "requesting agency",
            "requester_name": "officer's name (sealed at rest)",
            "requester_email": "officer's e-mail (sealed at rest)",
            "requester_phone": "officer's phone (sealed at rest)",
            "reference": "agency reference",
            "targets": "account ids requested",
            "verification": "how the request was verified",
            "verification_note": "note",
            "verified_by": "staff id",
            "notes": "staff notes",
            "created_by": "staff id",
            "user_notice_reason": "reason for (not) notifying the user",
        },
        withheld={
            "targets": "law-enforcement secrecy while nondisclosure lasts",
            "agency": "law-enforcement secrecy while nondisclosure lasts",
        },
        other=(
            "id kind country received_at due_at status verified_at nondisclosure_until user_notice "
            "preservation_expires_at renewals created_at updated_at"
        ),
        access="legal",
    ),
)
