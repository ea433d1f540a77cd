"""Field-level encryption of the most sensitive columns: `SealedText`.

A column declared `SealedText("table.column")` is written sealed (AES-256-GCM under the current
secrets key, `haven.core.secretbox`: `sealed:v1:<key id>:<base64>`) and read open with whichever
configured key sealed it, so the database file, its backups and anyone with SQL access see no
plaintext, while the code that reads the ORM attribute is unchanged. Decryption happens only
where the row is loaded, and every such read of messages or reporter details is already
authorised and audited by its caller (`conversation.view`, the report-case page).

The associated data is the column's name (a TypeDecorator does not see the row id), so a value
cannot be moved to another column; it could be copied to another row of the same column by
someone with write access, which is not the threat here (reading the file is).

Rotation: put the current key in `HAVEN_SECRETS_OLD_KEYS`, the new one in `HAVEN_SECRETS_KEY`,
run `haven privacy rewrap` (re-seals every value under the new key), then drop the old key.
Values from before sealing (clear text) are read as they are and sealed by the rewrap.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from haven.core import secretbox

_ENV = ("HAVEN_SECRETS_KEY", "HAVEN_SECRETS_OLD_KEYS", "HAVEN_QUARANTINE_KEY", "HAVEN_VAR_DIR")
_cache: dict[tuple[str | None, ...], list[bytes]] = {}


def keys() -> list[bytes]:
    """The secrets keys (current first), read from the environment like `haven.enforce.webhooks`
    and cached per environment, so a rotation takes effect without code changes."""
    from haven.core.settings import Settings

    marker = tuple(os.environ.get(k) for k in _ENV)
    found = _cache.get(marker)
    if found is None:
        found = _cache[marker] = Settings().secrets_keys()
    return found


class SealedText(TypeDecorator[str]):
    """Text sealed at rest; see the module docstring."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or value == "" or secretbox.is_sealed(str(value)):
            return value
        return secretbox.seal(str(value), keys()[0], self.context)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None or not secretbox.is_sealed(value):
            return value
        return secretbox.unseal(value, keys(), self.context)


def reseal(value: str | None, context: str, key_list: list[bytes]) -> str | None:
    """The value sealed under the current key (`key_list[0]`), or None when it already is."""
    if value is None or value == "":
        return None
    current = secretbox.key_id(key_list[0])
    if secretbox.is_sealed(value):
        if value[len(secretbox.PREFIX) :].startswith(current + ":"):
            return None
        value = secretbox.unseal(value, key_list, context)
    return secretbox.seal(value, key_list[0], context)
