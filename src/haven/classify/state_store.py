"""A conversation's detector state as stored: the message model's context sealed at rest.

`ConversationState` (pure logic) keeps the last few messages, normalised, because the trained
message model reads them as context. Stored as they are, they would put message text in clear in
the `conversations.state` JSON, beside the sealed `conversation_messages.text` (issue 16: message
text is sealed at rest). So the context is sealed here, under the secrets key with its own
associated data, and opened when the state is loaded. A context sealed under a key no longer
configured (after a rotation) is dropped: the model then scores with less context for a few
messages, and nothing else is lost. The retention sweep removes it with the evidence passages.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from haven.classify.conversation import ConversationState
from haven.core import secretbox
from haven.core.sealedcolumn import keys

log = logging.getLogger("haven.classify.state")

CONTEXT = "conversations.state.recent"


def load_state(stored: dict[str, Any] | None) -> ConversationState:
    """The state from the stored JSON, its sealed context opened."""
    d = dict(stored or {})
    recent = d.get("recent")
    if isinstance(recent, str):
        try:
            d["recent"] = json.loads(secretbox.unseal(recent, keys(), CONTEXT)) if secretbox.is_sealed(recent) else []
        except (secretbox.SecretError, ValueError):
            log.warning("a conversation's model context could not be opened (key rotated?): scoring without it")
            d["recent"] = []
    return ConversationState.from_json(d)


def store_state(state: ConversationState) -> dict[str, Any]:
    """The JSON to store: the state with its context sealed (no message text in clear)."""
    d = state.to_json()
    if d.get("recent"):
        d["recent"] = secretbox.seal(json.dumps(d["recent"], ensure_ascii=False), keys()[0], CONTEXT)
    else:
        d.pop("recent", None)
    return d
