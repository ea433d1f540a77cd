"""The trained message model: a logistic regression on character n-grams of the detector's
normalised text (so text-speak and obfuscation collapse before it looks), the previous few messages
of the same conversation as context, and who writes to whom. It sits on top of the rules as one
more signal with its own explanation ("model 0.91: like a sextortion threat and demand; cues:
post, card").

Shipped as data, not as a pickle: `model/message-model.json` holds the feature list, the inverse
document frequencies, one coefficient vector per head, the Platt calibration and the operating
threshold of each head. It is scored here with plain Python and numpy; scikit-learn is needed only
to rebuild it (`python -m haven.classify.conversation.train`, dev extras), never at run time.

Heads:
- `risky`: the message is at or after the point where a careful moderator warns, in a grooming or
  sextortion conversation (trained against every message of benign look-alikes);
- `sextortion`: the message is at or after the first threat-and-demand of a sextortion
  conversation (trained against benign and grooming messages).
The features, threshold and the way the detector combines the model with the rules were chosen
by leave-one-writer-out cross-validation over the seen sets (docs/classifiers.md, "The trained
model").
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FILE = "message-model.json"
HEADS = ("risky", "sextortion")
#: How many earlier messages of the conversation the model reads as context.
CONTEXT_MESSAGES = 3
MIN_N, MAX_N = 2, 5


class ModelFileError(ValueError):
    """The model file is missing, malformed or of another format version."""


def _coarse(band: str) -> str:
    if band == "adult":
        return "adult"
    if band in ("under_13", "13_15", "16_17"):
        return "minor"
    return "unknown"


def direction_key(sender_band: str, recipient_bands: Iterable[str]) -> str:
    """Who writes to whom, coarsely: `adult>minor`, `unknown>minor`, `minor>adult`, ..."""
    rec = {_coarse(b) for b in recipient_bands} or {"unknown"}
    to = "minor" if "minor" in rec else "unknown" if "unknown" in rec else "adult"
    return f"{_coarse(sender_band)}>{to}"


def char_ngrams(word: str) -> list[str]:
    """Character n-grams (2 to 5) of one word padded with spaces, as scikit-learn's `char_wb`."""
    p = f" {word} "
    out: list[str] = []
    for n in range(MIN_N, MAX_N + 1):
        if len(p) < n:
            break
        out.extend(p[i : i + n] for i in range(len(p) - n + 1))
    return out


def context_terms(context: list[str]) -> list[str]:
    """Word unigrams and bigrams of the earlier messages (normalised text), as feature keys."""
    out: list[str] = []
    for text in context:
        words = text.split()
        out.extend(f"c:{w}" for w in words)
        out.extend(f"c:{a} {b}" for a, b in pairwise(words))
    return out


def raw_features(norm: str, context: list[str], direction: str) -> dict[str, list[str]]:
    """The feature keys of one message, by block (before the vocabulary is applied)."""
    grams = [f"m:{g}" for w in norm.split() for g in char_ngrams(w)]
    return {"m": grams, "c": context_terms(context), "d": [f"d:{direction}"]}


@dataclass
class ModelScore:
    """The model's calibrated probability for each head, and the words that weighed most."""

    probabilities: dict[str, float]
    warn: dict[str, bool]
    cues: dict[str, list[str]]

    def explanation(self, head: str) -> str:
        what = "a sextortion threat and demand" if head == "sextortion" else "the risky turn of a grooming chat"
        cues = ", ".join(self.cues.get(head, [])) or "context"
        return f"model {self.probabilities[head]:.2f}: like {what}; cues: {cues}"


class MessageModel:
    """Loaded from the JSON document `train.py` writes; scores one message in well under a ms."""

    def __init__(self, doc: dict[str, Any]) -> None:
        try:
            if doc.get("format") != "haven-message-model/1":
                raise ModelFileError(f"model format {doc.get('format')!r} is not haven-message-model/1")
            self.doc = doc
            self.version: str = str(doc["version"])
            self.features: list[str] = list(doc["features"])
            self.index = {f: i for i, f in enumerate(self.features)}
            self.idf = np.asarray(doc["idf"], dtype=np.float64)
            self.block_weight: dict[str, float] = {k: float(v) for k, v in doc["block_weight"].items()}
            self.coef = {h: np.asarray(doc["heads"][h]["coef"], dtype=np.float64) for h in HEADS}
            self.intercept = {h: float(doc["heads"][h]["intercept"]) for h in HEADS}
            self.platt = {h: (float(doc["heads"][h]["platt"][0]), float(doc["heads"][h]["platt"][1])) for h in HEADS}
            self.threshold = {h: float(doc["heads"][h]["threshold"]) for h in HEADS}
            self.context_messages = int(doc.get("context_messages", CONTEXT_MESSAGES))
        except (KeyError, TypeError, IndexError) as exc:
            raise ModelFileError(f"model file is malformed: {exc!r}") from exc
        n = len(self.features)
        if self.idf.shape != (n,) or any(c.shape != (n,) for c in self.coef.values()):
            raise ModelFileError("model file is malformed: feature, idf and coefficient lengths differ")
        self._idf2 = self.idf * self.idf

    @classmethod
    def from_path(cls, path: Path) -> MessageModel:
        try:
            doc = json.loads(path.read_text("utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelFileError(f"cannot read model file {path}: {exc}") from exc
        if not isinstance(doc, dict):
            raise ModelFileError("model file is not a JSON object")
        return cls(doc)

    def vector(self, norm: str, context: list[str], direction: str) -> dict[int, float]:
        """The sparse feature vector: per block, binary presence times idf, L2-normalised and scaled
        by the block's weight (the same function builds the training matrix)."""
        out: dict[int, float] = {}
        for block, keys in raw_features(norm, context[-self.context_messages :], direction).items():
            if not self.block_weight.get(block, 1.0):
                continue
            idx = {self.index[k] for k in keys if k in self.index}
            if not idx:
                continue
            norm2 = math.sqrt(float(sum(self._idf2[i] for i in idx)))
            scale = self.block_weight.get(block, 1.0) / norm2
            for i in idx:
                out[i] = float(self.idf[i]) * scale
        return out

    def score(self, norm: str, context: list[str], direction: str, *, cues: int = 3) -> ModelScore:
        """Calibrated probabilities for each head; for a head that warns, up to `cues` words of the
        message that pushed it most."""
        vec = self.vector(norm, context, direction)
        probs: dict[str, float] = {}
        warn: dict[str, bool] = {}
        top: dict[str, list[str]] = {}
        for h in HEADS:
            coef = self.coef[h]
            z = self.intercept[h] + sum(coef[i] * v for i, v in vec.items())
            a, b = self.platt[h]
            probs[h] = 1.0 / (1.0 + math.exp(-(a * z + b)))
            warn[h] = probs[h] >= self.threshold[h]
            if cues and warn[h]:
                grams = [(w, g) for w in norm.split() for g in char_ngrams(w)]
                by_word: dict[str, float] = {}
                for w, g in grams:
                    i = self.index.get(f"m:{g}")
                    if i is not None and i in vec:
                        by_word[w] = by_word.get(w, 0.0) + coef[i] * vec[i]
                top[h] = [w for w, c in sorted(by_word.items(), key=lambda kv: -kv[1])[:cues] if c > 0]
        return ModelScore(probs, warn, top)


_lock = threading.Lock()
_loaded: dict[str, MessageModel | None] = {}


def model_path() -> Path:
    return Path(str(resources.files("haven.classify.conversation").joinpath("model", MODEL_FILE)))


def load_model(path: Path | None = None) -> MessageModel | None:
    """The shipped model (cached), or None when the file is absent (the rules then work alone)."""
    p = path or model_path()
    key = str(p)
    with _lock:
        if key in _loaded:
            return _loaded[key]
        model = MessageModel.from_path(p) if p.exists() else None
        _loaded[key] = model
        return model
