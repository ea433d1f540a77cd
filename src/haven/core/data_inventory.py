"""What core stores, declared for the data inventory (`haven.core.inventory`,
docs/data-inventory.md). A new column must be declared here, as personal or not."""

from __future__ import annotations

from haven.core.inventory import TableData

DATA: tuple[TableData, ...] = (
    TableData(
        table="api_keys",
        purpose="API keys of the service's integrations",
        basis="none",
        retention="kept while Haven runs (no personal data)",
        end="keep",
        other="id integration_id secret_sha256 prefix created_at last_used_at revoked_at",
        access="admin",
    ),
    TableData(
        table="audit_log",
        purpose=(
            "Who accessed or changed what: accountability for every access to evidence, media, messages "
            "and children's data"
        ),
        basis="legal_obligation",
        retention="3 years, then the actor and IP are pseudonymised (counts kept)",
        end="pseudonymise",
        data_class="audit",
        personal={
            "actor": "staff or integration identifier",
            "source_ip": "IP address of the staff member",
            "details": "free details of the access",
            "object_id": "id of the object accessed (may be an account id)",
            "purpose": "stated purpose",
        },
        other="id action object_type created_at",
        access="admin",
    ),
    TableData(
        table="counters",
        purpose="Internal counters",
        basis="none",
        retention="kept while Haven runs (no personal data)",
        end="keep",
        other="name value",
        access="none",
    ),
    TableData(
        table="events",
        purpose="The ledger: every state change, for subscribers and transparency counts",
        basis="legal_obligation",
        retention="payloads pseudonymised after 365 days (type, subject kind and dates kept for counts)",
        end="pseudonymise",
        data_class="ledger.payloads",
        personal={
            "subject_id": "id of the subject (may be an account id)",
            "actor": "staff, integration or system",
            "data": "payload (may hold account ids, reasons)",
        },
        other="id type subject_type created_at",
        access="admin",
    ),
    TableData(
        table="integrations",
        purpose="The service's integrations",
        basis="none",
        retention="kept while Haven runs (no personal data)",
        end="keep",
        other="id name scopes mode created_at revoked_at",
        access="admin",
    ),
    TableData(
        table="jobs",
        purpose="The job queue",
        basis="legitimate_interests",
        retention="finished jobs: 30 days",
        end="delete",
        data_class="jobs",
        personal={
            "payload": "job arguments (may hold account ids)",
            "last_error": "error text",
        },
        other=(
            "id kind status dedupe_key run_at attempts max_attempts locked_by locked_until created_at "
            "finished_at trace_context"
        ),
        access="admin",
    ),
)
