"""The registry: which classifiers run on which surface, from settings.

`HAVEN_CLASSIFIERS='{"message": ["opennsfw", "apparent_age", "hive"], "*": ["opennsfw"]}'` runs
three classifiers on images sent in messages and one elsewhere. Instances are built once per
settings object; heavy local models are shared by the whole process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from haven.classify.base import Classifier, ClassifierUnavailable, Content, LabelledScores
from haven.core.settings import Settings

log = logging.getLogger("haven.classify")


def _factories() -> dict[str, Callable[[Settings], Classifier]]:
    # The classifier modules import this registry module (score_of, Classifier): importing them at
    # start-up would be circular, and the model-backed ones load ONNX weights only when enabled.
    from haven.classify import external, local
    from haven.classify.conversation import detector_for
    from haven.classify.conversation.classifier import ConversationClassifier

    return {
        "conversation": lambda s: ConversationClassifier(detector_for(s)),
        "opennsfw": lambda s: local.OpenNsfw(),
        "apparent_age": lambda s: local.ApparentAge(),
        "thorn_safer": lambda s: external.ThornSafer(s.thorn_safer_url, s.thorn_safer_key.get_secret_value(), s),
        "google_csapi": lambda s: external.GoogleContentSafety(
            s.google_csapi_url, s.google_csapi_key.get_secret_value(), s
        ),
        "hive": lambda s: external.Hive(s.hive_url, s.hive_key.get_secret_value(), s),
    }


KNOWN = frozenset({"opennsfw", "apparent_age", "thorn_safer", "google_csapi", "hive", "conversation"})


class Registry:
    """Classifier instances by name, and the per-surface lists from settings."""

    def __init__(self, settings: Settings, extra: dict[str, Classifier] | None = None) -> None:
        self.settings = settings
        self._instances: dict[str, Classifier] = dict(extra or {})
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        unknown = {n for names in settings.classifiers.values() for n in names} - KNOWN - set(self._instances)
        if unknown:
            raise ValueError(f"HAVEN_CLASSIFIERS names unknown classifiers: {', '.join(sorted(unknown))}")

    def names_for(self, surface: str | None) -> list[str]:
        table = self.settings.classifiers
        return list(table.get(surface or "", table.get("*", [])))

    def get(self, name: str) -> Classifier:
        with self._lock:
            if name not in self._instances:
                self._instances[name] = _factories()[name](self.settings)
            return self._instances[name]

    def run(self, surface: str | None, content: Content) -> dict[str, Any]:
        """Run every classifier configured for the surface that accepts this kind of content.

        Returns the JSON stored in `ContentItem.scores`; a classifier that cannot run is recorded
        as `{"unavailable": reason}` so a reviewer knows which scores are missing and why.
        """
        out: dict[str, Any] = {}
        for name in self.names_for(surface):
            clf = self.get(name)
            if content.kind not in clf.kinds:
                continue
            try:
                result: LabelledScores = clf.classify(content)
            except ClassifierUnavailable as exc:
                if name not in self._warned:  # once per process: not on every upload
                    self._warned.add(name)
                    log.warning("classifier unavailable", extra={"classifier": name, "reason": str(exc)})
                out[name] = {"version": clf.version, "scores": {}, "unavailable": str(exc)}
                continue
            out[name] = result.to_json()
        return out


_registries: dict[int, tuple[Settings, Registry]] = {}
_reg_lock = threading.Lock()


def registry_for(settings: Settings) -> Registry:
    """The registry of a settings object (built on first use)."""
    with _reg_lock:
        entry = _registries.get(id(settings))
        if entry is None or entry[0] is not settings:
            entry = (settings, Registry(settings))
            _registries[id(settings)] = entry
        return entry[1]


def score_of(scores: dict[str, Any], key: str) -> float | None:
    """`scores["opennsfw"]["scores"]["nsfw"]` for the key `"opennsfw.nsfw"`, or None."""
    name, _, label = key.partition(".")
    value = scores.get(name, {}).get("scores", {}).get(label)
    return None if value is None else float(value)
