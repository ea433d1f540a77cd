"""Classify: scores for what no hash list knows (explicit imagery, apparent minors, video,
grooming and sextortion in conversations).

One `Classifier` protocol; a registry configured per surface by settings; local models that ship
in PyPI packages; adapters for external services. Scores propose a review and its priority;
they never block content or end an account on their own.
"""

from haven.classify.base import Classifier, ClassifierUnavailable, Content, LabelledScores, Turn
from haven.classify.registry import Registry, registry_for, score_of
from haven.classify.review import conversation_for_review
from haven.core.capability import Capability

__all__ = [
    "Classifier",
    "ClassifierUnavailable",
    "Content",
    "LabelledScores",
    "Registry",
    "Turn",
    "conversation_for_review",
    "registry_for",
    "score_of",
]

CAPABILITY = Capability(
    name="classify",
    summary="Classifiers for new material and for grooming and sextortion in conversations.",
    routers=("haven.classify.nudge_api:router",),
    models=("haven.classify.models",),
    data=("haven.classify.data_inventory",),
    cli=(("eval", "haven.classify.cli:eval_command"),),
)
