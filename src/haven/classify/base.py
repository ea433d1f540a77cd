"""The one classifier protocol.

A classifier takes one piece of content (an image, sampled video frames, a text, or a whole
conversation) and returns labelled scores in [0, 1] with its name and version. Scores are
evidence for a person to weigh: policy uses them to propose a review and its priority, never to
block content or end an account on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

ContentKind = Literal["image", "video", "text", "conversation"]

RGB = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Turn:
    """One message of a conversation, as a classifier sees it."""

    sender: str
    text: str
    message_id: str | None = None


@dataclass
class Content:
    """What a classifier looks at. Only the field matching `kind` is set."""

    kind: ContentKind
    image: RGB | None = None
    frames: list[RGB] = field(default_factory=list)
    text: str | None = None
    turns: list[Turn] = field(default_factory=list)

    @classmethod
    def of_image(cls, rgb: RGB) -> Content:
        return cls("image", image=rgb)

    @classmethod
    def of_frames(cls, frames: list[RGB]) -> Content:
        return cls("video", frames=frames)

    @classmethod
    def of_text(cls, text: str) -> Content:
        return cls("text", text=text)

    @classmethod
    def of_conversation(cls, turns: list[Turn]) -> Content:
        return cls("conversation", turns=turns)


@dataclass(frozen=True)
class LabelledScores:
    """One classifier's answer: its name and version, scores per label, and optional details
    (for example which frame or face gave the score) that a reviewer may read."""

    name: str
    version: str
    scores: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The shape stored in `ContentItem.scores[name]`."""
        out: dict[str, Any] = {
            "version": self.version,
            "scores": {k: round(float(v), 4) for k, v in self.scores.items()},
        }
        if self.details:
            out["details"] = self.details
        return out


@runtime_checkable
class Classifier(Protocol):
    """Anything with a name, a version, the kinds it accepts and a `classify` method."""

    name: str
    version: str
    kinds: frozenset[str]

    def classify(self, content: Content) -> LabelledScores:
        """Score one piece of content; raise `ClassifierUnavailable` when it cannot run."""
        ...


class ClassifierUnavailable(RuntimeError):
    """The classifier cannot run (model not installed, external service down or not configured).

    Intake records the failure with the content and carries on: a missing score never blocks
    an upload, it only means no classifier-driven review.
    """
