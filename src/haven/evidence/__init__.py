"""The evidence vault: encrypted preservation, legal holds, retention and purge, export."""

from haven.evidence.vault import READ_ROLES, Vault, active_holds, custody_record, place_hold, release_hold

__all__ = ["READ_ROLES", "Vault", "active_holds", "custody_record", "place_hold", "release_hold"]
