"""What staff stores, declared for the data inventory (`haven.core.inventory`,
docs/data-inventory.md). A new column must be declared here, as personal or not."""

from __future__ import annotations

from haven.core.inventory import TableData

DATA: tuple[TableData, ...] = (
    TableData(
        table="staff",
        purpose="Staff accounts",
        basis="staff_contract",
        retention="while engaged, then disabled",
        end="keep",
        personal={
            "email": "staff e-mail (never shown to users)",
            "display_name": "name",
            "password_hash": "password hash",
            "totp_secret": "sealed TOTP secret",
            "preferences": "preferences",
        },
        other=(
            "id roles totp_enabled_at totp_last_step setup_token_sha256 setup_expires_at failed_logins "
            "locked_until last_login_at disabled_at created_at"
        ),
        access="admin",
    ),
    TableData(
        table="staff_recovery_codes",
        purpose="2FA recovery codes (hashed)",
        basis="staff_contract",
        retention="until used or replaced",
        end="delete",
        personal={
            "staff_id": "staff id",
        },
        other="id code_sha256 used_at created_at",
        access="none",
    ),
    TableData(
        table="staff_sessions",
        purpose="Staff sessions",
        basis="staff_contract",
        retention="30 days after expiry",
        end="delete",
        data_class="staff.sessions",
        personal={
            "staff_id": "staff id",
            "ip": "IP address",
            "user_agent": "browser",
        },
        other="id token_sha256 csrf_token stage created_at last_seen_at expires_at revoked_at break_taken_at",
        access="admin",
    ),
    TableData(
        table="staff_sign_in_throttle",
        purpose="Sign-in throttling",
        basis="legitimate_interests",
        retention="until the lock ends",
        end="delete",
        personal={
            "key": "e-mail or IP throttled",
        },
        other="failures locked_until succeeded_at updated_at",
        access="none",
    ),
    TableData(
        table="training_completions",
        purpose="Staff training records",
        basis="staff_contract",
        retention="while engaged",
        end="keep",
        personal={
            "staff_id": "staff id",
        },
        other="id slug version_id completed_at",
        access="admin",
    ),
    TableData(
        table="training_module_versions",
        purpose="Training modules",
        basis="staff_contract",
        retention="kept while Haven runs (no personal data)",
        end="keep",
        personal={
            "edited_by": "staff id",
        },
        other="id slug title body requires_refresh created_at",
        access="admin",
    ),
)
