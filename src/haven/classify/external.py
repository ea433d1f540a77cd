"""Adapters for external classification services, each used only when the operator configures it.

Every adapter sends the image over HTTPS with httpx, a per-call timeout, and a circuit breaker:
after `breaker_failures` consecutive failures the adapter stops calling for `breaker_reset_seconds`
and reports itself unavailable at once, so a slow or broken service never stalls intake.

The request and response shapes follow the services' public documentation as far as it is
public; what is assumed is said at each adapter (and in docs/classifiers.md). Tests run each
adapter against a local double on loopback that validates requests the same way.
"""

from __future__ import annotations

import base64
import io
import threading
import time
from abc import ABC, abstractmethod
from typing import Any

import httpx
from PIL import Image

from haven.classify.base import ClassifierUnavailable, Content, LabelledScores
from haven.classify.local import images_of
from haven.core import outbound
from haven.core.settings import Settings


class CircuitBreaker:
    """Closed -> open after `failures` consecutive errors; half-open after `reset_seconds`
    (one trial call: success closes it, failure opens it again)."""

    def __init__(self, failures: int, reset_seconds: float) -> None:
        self.failures = failures
        self.reset_seconds = reset_seconds
        self._count = 0
        self._opened_at: float | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            if self._opened_at is None:
                return "closed"
            return "half_open" if time.monotonic() - self._opened_at >= self.reset_seconds else "open"

    def allow(self) -> bool:
        return self.state != "open"

    def success(self) -> None:
        with self._lock:
            self._count = 0
            self._opened_at = None

    def failure(self) -> None:
        with self._lock:
            self._count += 1
            if self._count >= self.failures or self._opened_at is not None:
                self._opened_at = time.monotonic()


def jpeg_of(rgb: Any, max_side: int = 640) -> bytes:
    """The picture as JPEG, no larger than `max_side` (Google recommends about 640x480)."""
    img = Image.fromarray(rgb)
    img.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


class HttpClassifier(ABC):
    """Shared plumbing: configuration check, timeout, breaker, error mapping."""

    name = "external"
    version = "api"
    kinds = frozenset({"image", "video"})

    def __init__(self, base_url: str, key: str, settings: Settings, transport: httpx.BaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self._key = key
        self.timeout = settings.external_timeout_seconds
        self.breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_reset_seconds)
        if transport is None:  # every connection checked and pinned (haven.core.outbound)
            transport = outbound.GuardedTransport(outbound.parse_networks(settings.outbound_allowed_networks))
        self._client = httpx.Client(timeout=self.timeout, transport=transport, trust_env=False)

    @property
    def configured(self) -> bool:
        return bool(self.base_url and self._key)

    def classify(self, content: Content) -> LabelledScores:
        if not self.configured:
            raise ClassifierUnavailable(f"{self.name} is not configured (set its URL and key)")
        if not self.breaker.allow():
            raise ClassifierUnavailable(f"{self.name}: circuit open after repeated failures")
        pictures = images_of(content, limit=4)
        if not pictures:
            return LabelledScores(self.name, self.version, {})
        try:
            results = [self._call(jpeg_of(p)) for p in pictures]
        except httpx.HTTPStatusError as exc:
            self.breaker.failure()
            raise ClassifierUnavailable(
                f"{self.name} failed: http_status (HTTPStatusError {exc.response.status_code})"
            ) from None
        except httpx.HTTPError as exc:
            self.breaker.failure()
            raise ClassifierUnavailable(
                f"{self.name} failed: {outbound.failure_category(exc)} ({type(exc).__name__})"
            ) from None
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            self.breaker.failure()
            raise ClassifierUnavailable(f"{self.name} failed: bad answer ({type(exc).__name__})") from None
        self.breaker.success()
        merged: dict[str, float] = {}
        for r in results:
            for label, score in r.items():
                merged[label] = max(merged.get(label, 0.0), score)
        return LabelledScores(self.name, self.version, merged)

    @abstractmethod
    def _call(self, jpeg: bytes) -> dict[str, float]:
        """One request for one JPEG: {label: score}. Each service's adapter implements it."""


class ThornSafer(HttpClassifier):
    """Thorn Safer Predict image classifier.

    Assumed (Safer's API reference is available to customers only): `POST {url}/v1/classify/image`
    with `Authorization: Bearer <key>` and a multipart field `image`; the answer is
    `{"model_version": str, "classifications": [{"label": "csam"|"pornography"|"other", "score": float}]}`.
    """

    name = "thorn_safer"

    def _call(self, jpeg: bytes) -> dict[str, float]:
        r = self._client.post(
            f"{self.base_url}/v1/classify/image",
            headers={"Authorization": f"Bearer {self._key}"},
            files={"image": ("image.jpg", jpeg, "image/jpeg")},
        )
        r.raise_for_status()
        body = r.json()
        self.version = str(body.get("model_version", "api"))
        return {str(c["label"]): float(c["score"]) for c in body["classifications"]}


#: Google's review priorities, mapped to a score for thresholds and sorting.
GOOGLE_PRIORITIES = {"VERY_LOW": 0.0, "LOW": 0.25, "MEDIUM": 0.5, "HIGH": 0.75, "VERY_HIGH": 1.0}


class GoogleContentSafety(HttpClassifier):
    """Google Content Safety API: `POST {url}/v1beta1/images:classify?key=<key>` with
    `{"images": [<base64>]}`, answering `{"reviewPriorities": ["VERY_LOW".."VERY_HIGH"], "modelVersion"}`
    (as documented for partners and used by ROOST Coop). The label is `priority` (0..1)."""

    name = "google_csapi"

    def _call(self, jpeg: bytes) -> dict[str, float]:
        r = self._client.post(
            f"{self.base_url}/v1beta1/images:classify",
            params={"key": self._key},
            json={"images": [base64.b64encode(jpeg).decode()]},
        )
        r.raise_for_status()
        body = r.json()
        self.version = str(body.get("modelVersion", "v1beta1"))
        (priority,) = body["reviewPriorities"]
        return {"priority": GOOGLE_PRIORITIES[priority]}


class Hive(HttpClassifier):
    """Hive's synchronous task API (`POST {url}/api/v2/task/sync`, `Authorization: Token <key>`,
    multipart field `media`), answering `{"status": [{"status": {"code": "0"}, "response": {"output":
    [{"time": 0, "classes": [{"class": str, "score": float}]}]}}]}`. Which classes appear depends on
    the models enabled on the key (for the CSAM model: `csam`, `not_csam`)."""

    name = "hive"

    def _call(self, jpeg: bytes) -> dict[str, float]:
        r = self._client.post(
            f"{self.base_url}/api/v2/task/sync",
            headers={"Authorization": f"Token {self._key}", "Accept": "application/json"},
            files={"media": ("image.jpg", jpeg, "image/jpeg")},
        )
        r.raise_for_status()
        out: dict[str, float] = {}
        for task in r.json()["status"]:
            for frame in task["response"]["output"]:
                for c in frame["classes"]:
                    out[str(c["class"])] = max(out.get(str(c["class"]), 0.0), float(c["score"]))
        return out
