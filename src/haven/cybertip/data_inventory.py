"""What cybertip stores, declared for the data inventory (`haven.core.inventory`,
docs/data-inventory.md). A new column must be declared here, as personal or not."""

from __future__ import annotations

from haven.core.inventory import TableData

DATA: tuple[TableData, ...] = (
    TableData(
        table="cybertip_calls",
        purpose="Calls to the CyberTipline API (request and response bodies)",
        basis="legal_obligation",
        retention="with the report case's evidence (1 year after the report unless preserved), then scrubbed",
        end="scrub",
        data_class="evidence",
        personal={
            "request_body": "the report's XML sent (personal data of people in the report)",
            "response_body": "NCMEC's answer",
        },
        withheld={
            "request_body": (
                "a preserved CyberTipline report: never disclosed to the reported person (18 U.S.C. "
                "2258A; law-enforcement secrecy)"
            ),
        },
        other=(
            "id case_id submission_id environment endpoint http_status request_id response_code error "
            "duration_ms created_at"
        ),
        access="reporting staff",
    ),
    TableData(
        table="report_cases",
        purpose="CyberTipline report cases",
        basis="legal_obligation",
        retention="with the case's evidence (1 year unless preserved), then scrubbed (ids, category, dates kept)",
        end="scrub",
        data_class="evidence",
        subject=("subject_id",),
        personal={
            "subject_id": "account or content id",
            "incident_description": "description",
            "escalation_reason": "reason",
            "annotations": "annotations",
            "reported_account": "reported person's details",
            "recipients": "recipients' details",
            "victims": "victims' details",
            "content_ids": "content ids",
            "file_annotations": "file annotations",
            "conversation": "conversation attached",
            "prior_reports": "earlier reports",
            "additional_info": "free text",
            "created_by": "staff id",
            "submitted_by": "staff id",
            "lease_owner": "worker",
        },
        withheld={
            "reported_account": "a CyberTipline report is never disclosed to the reported person",
            "victims": "another person's rights",
            "recipients": "another person's rights",
            "conversation": "a CyberTipline report is never disclosed to the reported person",
        },
        other=(
            "id status environment category incident_type incident_at subject_type decision_id "
            "classifications first_knowledge_at created_at updated_at submitted_at ncmec_report_id "
            "finished_at error_code error_message lease_until"
        ),
        access="reporting staff",
    ),
    TableData(
        table="report_files",
        purpose="Files of a report case",
        basis="legal_obligation",
        retention="with the case's evidence",
        end="scrub",
        data_class="evidence",
        personal={
            "content_id": "content id",
            "file_name": "file name",
            "details_xml": "file details",
            "views": "who viewed it",
        },
        other=(
            "id case_id kind position evidence_object_id md5 submission_id stage ncmec_file_id "
            "viewed_by_esp exif_viewed_by_esp"
        ),
        access="reporting staff",
    ),
    TableData(
        table="report_submissions",
        purpose="Submissions of a report case",
        basis="legal_obligation",
        retention="with the case's evidence",
        end="scrub",
        data_class="evidence",
        personal={
            "xml": "the report's XML",
            "receipt": "NCMEC's receipt",
        },
        other="id case_id seq environment state ncmec_report_id opened_at last_modified_at finished_at created_at",
        access="reporting staff",
    ),
)
