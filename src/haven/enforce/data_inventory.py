"""What enforce stores, declared for the data inventory (`haven.core.inventory`,
docs/data-inventory.md). A new column must be declared here, as personal or not."""

from __future__ import annotations

from haven.core.inventory import TableData

DATA: tuple[TableData, ...] = (
    TableData(
        table="account_strikes",
        purpose="Strikes on an account (the ladder)",
        basis="contract",
        retention="until expired + 5 years (appeals)",
        end="keep",
        subject=("account_id",),
        personal={
            "account_id": "account",
            "removed_reason": "reason",
        },
        other="id decision_id category severity points created_at expires_at removed_at",
        access="reviewers, admin",
    ),
    TableData(
        table="appeals",
        purpose="Appeals of decisions (DSA Art 20)",
        basis="legal_obligation",
        retention="5 years after decided",
        end="keep",
        subject=("appellant",),
        personal={
            "appellant": "account id",
            "statement": "appellant's statement",
            "original_deciders": "staff ids",
            "decided_by": "staff id",
            "reason": "reason",
        },
        withheld={
            "original_deciders": "staff privacy: named by handle only",
        },
        other="id decision_id status filed_at decided_at",
        access="reviewers (appeals)",
    ),
    TableData(
        table="enforcement_actions",
        purpose="Actions taken on a decision (removal, suspension)",
        basis="legal_obligation",
        retention="5 years after the decision (DSA statements of reasons and appeals)",
        end="keep",
        personal={
            "subject_id": "account or content id acted on",
        },
        other="id decision_id action_type subject_type params until created_at reversed_at",
        access="admin, senior",
    ),
    TableData(
        table="enforcement_decision_aliases",
        purpose="Alias refs of decisions",
        basis="none",
        retention="with the decision",
        end="keep",
        other="ref decision_id created_at",
        access="none",
    ),
    TableData(
        table="enforcement_decisions",
        purpose="Enforcement decisions (DSA Art 17)",
        basis="legal_obligation",
        retention="5 years after the decision",
        end="keep",
        subject=("account_id",),
        personal={
            "account_id": "account decided on",
            "subject_id": "account or content id",
            "deciders": "staff ids and rules that decided",
            "content_ids": "content decided on",
            "overturned_by": "staff id",
        },
        withheld={
            "deciders": "staff privacy: staff appear to users only by reviewer handle",
        },
        other=(
            "id source source_ref subject_type category outcome automated_detection automated_decision "
            "source_type notice_case_id rule ladder created_at overturned_at"
        ),
        access="admin, senior, the account (statement of reasons)",
    ),
    TableData(
        table="notice_holds",
        purpose="Holds of notices to a user (law-enforcement secrecy)",
        basis="legal_obligation",
        retention="until released",
        end="keep",
        subject=("account_id",),
        personal={
            "account_id": "account",
            "reference": "reference",
            "reason": "reason",
            "created_by": "staff id",
            "released_by": "staff id",
        },
        withheld={
            "reason": "law-enforcement secrecy",
            "reference": "law-enforcement secrecy",
        },
        other="id until created_at released_at",
        access="legal",
    ),
    TableData(
        table="statements_of_reasons",
        purpose="Statements of reasons sent to users (DSA Art 17)",
        basis="legal_obligation",
        retention="5 years",
        end="keep",
        subject=("account_id",),
        personal={
            "account_id": "account",
            "puid": "the platform's user id given to the DSA database",
            "text": "statement text",
            "html": "statement html",
            "fields": "statement fields",
        },
        other=(
            "id decision_id locale subject notice_status hold_id delivery_id tdb_status tdb_uuid "
            "tdb_error tdb_submitted_at created_at"
        ),
        access="admin, the account",
    ),
    TableData(
        table="webhook_deliveries",
        purpose="Outbox of webhooks to the service",
        basis="contract",
        retention="delivered: 30 days",
        end="delete",
        data_class="webhooks",
        personal={
            "payload": "the webhook body (account ids, decisions)",
            "subject_id": "subject id",
            "last_error": "error",
        },
        other=(
            "id action_type idempotency_key subject_type decision_id status attempts max_attempts replays"
            " last_status next_attempt_at created_at delivered_at"
        ),
        access="admin",
    ),
    TableData(
        table="webhook_endpoints",
        purpose="Webhook endpoints (secrets sealed)",
        basis="staff_contract",
        retention="kept while Haven runs (no personal data)",
        end="keep",
        personal={
            "created_by": "staff id",
        },
        other="id url secret previous_secret previous_until enabled created_at",
        access="admin",
    ),
)
