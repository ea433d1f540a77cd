"""The detector state as stored: the model's context sealed, opened on load, dropped (not a
crash) when its key is gone."""

from __future__ import annotations

import base64
import os

import pytest

from haven.classify.conversation import ConversationState
from haven.classify.state_store import load_state, store_state


def test_context_is_sealed_at_rest_and_opened_on_load() -> None:
    state = ConversationState(turns=2, recent=["see you at the park", "after school ok"])
    stored = store_state(state)
    assert stored["recent"].startswith("sealed:v1:") and "park" not in str(stored)
    again = load_state(stored)
    assert again.recent == state.recent and again.turns == 2
    assert "recent" not in store_state(ConversationState())


def test_a_context_sealed_under_a_dropped_key_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = store_state(ConversationState(turns=1, recent=["hello there"]))
    monkeypatch.setenv("HAVEN_SECRETS_KEY", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("HAVEN_SECRETS_OLD_KEYS", "[]")
    again = load_state(stored)
    assert again.recent == [] and again.turns == 1
    # States stored before sealing (a list in clear) still load.
    assert load_state({"turns": 3, "recent": ["a", "b"]}).recent == ["a", "b"]
