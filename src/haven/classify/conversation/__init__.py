"""Conversation-level early warning for grooming and sextortion (rules + a trained message model +
optional semantics)."""

from __future__ import annotations

import threading

from haven.classify.conversation.detector import (
    ConversationState,
    Detector,
    MessageContext,
    TurnResult,
    is_minor,
)
from haven.core.settings import Settings

__all__ = ["ConversationState", "Detector", "MessageContext", "TurnResult", "detector_for", "is_minor"]

_lock = threading.Lock()
_detectors: dict[int, tuple[Settings, Detector]] = {}


def detector_for(settings: Settings) -> Detector:
    """The detector configured by these settings (semantic detector when installed and enabled)."""
    with _lock:
        entry = _detectors.get(id(settings))
        if entry is not None and entry[0] is settings:
            return entry[1]
    semantic = None
    if settings.semantic_detector:
        # The semantic detector is an optional extra (CPU torch): imported only when it is turned on.
        from haven.classify.conversation.semantic import load_semantic

        semantic = load_semantic()
    model = None
    if settings.conversation_model:
        from haven.classify.conversation.model import load_model

        model = load_model()
    det = Detector(settings.grooming_warn_threshold, settings.sextortion_warn_threshold, semantic, model)
    with _lock:
        _detectors[id(settings)] = (settings, det)
    return det
