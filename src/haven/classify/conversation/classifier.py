"""The conversation detector behind the one `Classifier` protocol, for batch use (re-scoring a
stored conversation, `haven eval`, or an operator's own pipeline). The message path uses the
incremental `Detector` directly, so each message costs one update, not a replay."""

from __future__ import annotations

from haven.classify.base import Content, LabelledScores, Turn
from haven.classify.conversation.detector import ConversationState, Detector, MessageContext


class ConversationClassifier:
    """Scores a whole conversation (or one text as a one-turn conversation).

    Labels: `grooming` and `sextortion` (the detector's scores after the last turn) and, for
    compatibility with the Thorn/Hive CSE text taxonomy, `child_access` (= grooming) and
    `sextortion`; details list the behaviours with their turn and message id.
    """

    name = "conversation"
    version = "rules-2"
    kinds = frozenset({"conversation", "text"})

    def __init__(self, detector: Detector | None = None, bands: dict[str, str] | None = None) -> None:
        self.detector = detector or Detector()
        self.bands = bands or {}
        if self.detector.model is not None:
            self.version = f"{self.version}+{self.detector.model.version}"
        if self.detector.semantic is not None:
            self.version = f"{self.version}+{self.detector.semantic.version}"

    def classify(self, content: Content) -> LabelledScores:

        turns = content.turns if content.kind == "conversation" else [Turn("unknown", content.text or "")]
        state = ConversationState()
        people = list(dict.fromkeys(t.sender for t in turns))
        g = s = 0.0
        behaviours: list[dict[str, object]] = []
        for t in turns:
            others = [p for p in people if p != t.sender] or ["unknown"]
            ctx = MessageContext(
                self.bands.get(t.sender, "unknown"),
                [self.bands.get(p, "unknown") for p in others],
                recipient_ids=others,
            )
            r = self.detector.update(state, sender=t.sender, text=t.text, context=ctx, message_id=t.message_id)
            g, s = r.grooming.score, r.sextortion.score
            behaviours = r.grooming.behaviours + r.sextortion.behaviours
        scores = {"grooming": g, "sextortion": s, "child_access": g}
        return LabelledScores(self.name, self.version, scores, {"behaviours": behaviours, "warned": state.warned})
