"""The signals of one upload: hashes, image variants, short-video analysis and classifier scores.

CPU-bound and outside any database transaction: the API runs it in a worker thread before the
screening transaction starts.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

from haven.classify import Content, registry_for
from haven.core.errors import ServiceBusy, UnsupportedMediaType
from haven.core.settings import Settings
from haven.screening.pipeline import ScreeningInput
from haven.signals.crypto import crypto_hashes
from haven.signals.image import ImageHashes, decode_for_screening, hash_decoded, sniff_media_kind
from haven.signals.video import VideoSignals, analyse_video, probe_duration


@dataclass
class Signals:
    """The signals of one piece of content, computed outside any database transaction."""

    media_kind: str
    mime: str
    md5: str
    sha1: str
    sha256: str
    image: ImageHashes | None = None
    #: Classifier output ({name: {"version", "scores"}}), computed with the hashes.
    scores: dict[str, Any] = field(default_factory=dict)
    #: Video analysed in the request (short videos); None for images and for long videos.
    video: VideoSignals | None = None
    #: A long video whose analysis the worker does after the answer.
    video_deferred: bool = False
    #: An image whose classifiers the worker runs after the answer (`haven.screening.deferred`).
    classify_deferred: bool = False

    @property
    def exact(self) -> tuple[tuple[str, str], ...]:
        """(signal type, value) of the exact hashes."""
        return (("md5", self.md5), ("sha1", self.sha1), ("sha256", self.sha256))

    def screening_input(
        self,
        min_quality: int,
        *,
        uploader: str | None = None,
        recipients: tuple[str, ...] = (),
        surface: str | None = None,
    ) -> ScreeningInput:
        """What screening needs of these signals (uploads and `haven scan` alike), with the context."""
        return ScreeningInput(
            media_kind=self.media_kind,
            exact=self.exact,
            perceptual=perceptual_queries(self, min_quality),
            pdq_quality=self.image.quality if self.image and self.video is None else None,
            scores=self.scores,
            uploader=uploader,
            recipients=recipients,
            surface=surface,
            pending_analysis=self.video_deferred or self.classify_deferred,
        )


def compute_signals(
    data: bytes, settings: Settings, surface: str | None = None, *, classify: bool = False, defer: bool = False
) -> Signals:
    """Hash the bytes and, with `classify`, run the surface's classifiers (with `defer`, an
    image's are left to the worker: `classify_deferred`). Short videos are analysed here, long
    ones are left to the worker."""
    sniffed = sniff_media_kind(data)
    if sniffed is None:
        raise UnsupportedMediaType(
            "unsupported media type: send an image (JPEG, PNG, GIF, WebP, BMP, TIFF, HEIC/HEIF) "
            "or a video (MP4, MOV, WebM, AVI)",
            details={"first_bytes": data[:8].hex()},
        )
    kind, mime = sniffed
    if kind == "image":
        with decode_slot(settings):
            classifiers = classify and bool(registry_for(settings).names_for(surface))
            wants_rgb = classifiers and not defer
            # One decode for the hashes and the classifiers, within the upload's memory budget.
            luma, rgb = decode_for_screening(
                data, max_pixels=settings.max_image_pixels, max_bytes=settings.max_decode_bytes, rgb=wants_rgb
            )
            img = hash_decoded(
                crypto_hashes(data), luma, dihedral=settings.query_dihedral, trim_borders=settings.query_trim_borders
            )
            del luma
            c = img.crypto
            out = Signals(kind, img.mime, c.md5, c.sha1, c.sha256, img, classify_deferred=classifiers and defer)
            if rgb is not None:
                out.scores = registry_for(settings).run(surface, Content.of_image(rgb))
        return out
    c = crypto_hashes(data)
    out = Signals(kind, mime, c.md5, c.sha1, c.sha256)
    if kind == "video" and classify:
        if probe_duration(data) <= settings.video_inline_max_seconds:
            out.video = analyse_video(data, sample=settings.video_sample_frames)
            out.scores = registry_for(settings).run(surface, Content.of_frames(out.video.frames))
        else:
            out.video_deferred = True
    return out


_slots_lock = threading.Lock()
_slots: dict[int, threading.BoundedSemaphore] = {}


class decode_slot:
    """One of `max_concurrent_decodes` slots of this process for decoding an image: an upload
    waits up to `decode_wait_seconds` for one, then gets 503 with Retry-After (so three large
    images at once cannot take three budgets' worth of memory)."""

    def __init__(self, settings: Settings) -> None:
        size = max(1, settings.max_concurrent_decodes)
        with _slots_lock:
            self.sem = _slots.setdefault(size, threading.BoundedSemaphore(size))
        self.wait = settings.decode_wait_seconds

    def __enter__(self) -> None:
        if not self.sem.acquire(timeout=self.wait):
            retry = max(1, math.ceil(self.wait))
            raise ServiceBusy(
                "every image decoding slot is busy; retry shortly",
                details={"retry_after_seconds": retry},
                headers={"Retry-After": str(retry)},
            )

    def __exit__(self, *exc: object) -> None:
        self.sem.release()


def video_frame_queries(video: VideoSignals, min_quality: int) -> tuple[tuple[str, str], ...]:
    """vPDQ's per-second frame hashes as PDQ queries against image banks (frame-level matching)."""
    seen: dict[str, str] = {}
    for f in video.vpdq:
        if f.quality >= min_quality and f.pdq not in seen:
            seen[f.pdq] = f"frame@{f.timestamp:g}s"
    return tuple((name, h) for h, name in seen.items())


def perceptual_queries(signals: Signals, min_quality: int) -> tuple[tuple[str, str], ...]:
    """The PDQ queries of an upload: an image's variants, or a short video's frames."""
    if signals.video is not None:
        return video_frame_queries(signals.video, min_quality)
    return tuple(signals.image.query_variants) if signals.image else ()
