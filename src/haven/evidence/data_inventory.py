"""What evidence stores, declared for the data inventory (`haven.core.inventory`,
docs/data-inventory.md). A new column must be declared here, as personal or not."""

from __future__ import annotations

from haven.core.inventory import TableData

DATA: tuple[TableData, ...] = (
    TableData(
        table="evidence_holds",
        purpose="Legal and case holds that stop deletion",
        basis="legal_obligation",
        retention="until released and the object's retention ends",
        end="keep",
        subject=("account_id",),
        personal={
            "account_id": "account the hold covers",
            "reason": "reason for the hold",
            "created_by": "staff id",
            "released_by": "staff id",
        },
        withheld={
            "reason": (
                "law-enforcement secrecy: the existence of a legal hold is not disclosed while nondisclosure lasts"
            ),
        },
        other="id case_id object_id legal_request_id created_at expires_at released_at",
        access="admin, legal",
    ),
    TableData(
        table="evidence_objects",
        purpose="Encrypted evidence of reported material (the vault)",
        basis="legal_obligation",
        retention="1 year after the report (18 U.S.C. 2258A(h)) unless a hold extends it",
        end="delete",
        data_class="evidence",
        subject=("account_id",),
        personal={
            "account_id": "account the evidence is about",
            "file_name": "original file name",
            "created_by": "staff or system",
            "destroyed_by": "staff id",
            "path": "location of the encrypted file",
        },
        withheld={
            "file_name": "a preserved report's evidence: never disclosed to the reported person",
        },
        other=(
            "id case_id content_id kind content_type size_bytes sha256 key_provider key_id wrapped_key "
            "created_at retain_until destroyed_at destruction_reason"
        ),
        access="reporting staff (audited)",
    ),
)
