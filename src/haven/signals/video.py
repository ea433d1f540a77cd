"""Video signals: frames decoded offline with PyAV (its wheel bundles FFmpeg), Meta's vPDQ
(`vpdq`, the reference implementation that hash exchanges carry: one PDQ hash of a frame per
second), and evenly sampled frames for the imagery classifiers.

vPDQ's per-second hashes are PDQ hashes of frames, so matching them against image banks gives
frame-level matching of known images inside videos. Pure functions; no database.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from haven.core.errors import UndecodableMedia
from haven.signals.pdq import hamming

RGB = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class FrameHash:
    """One vPDQ feature: a PDQ hash of the frame at `timestamp` seconds."""

    frame: int
    timestamp: float
    quality: int
    pdq: str


@dataclass
class VideoSignals:
    duration: float
    width: int
    height: int
    frame_count: int
    vpdq: list[FrameHash] = field(default_factory=list)
    frames: list[RGB] = field(default_factory=list)


def _av():  # type: ignore[no-untyped-def]
    try:
        import av
    except ImportError as exc:  # the `models` extra
        raise UndecodableMedia(f"video decoding needs PyAV: pip install 'haven[models]' ({exc})") from None
    return av


def probe_duration(data: bytes) -> float:
    """The container's duration in seconds, read from its header without decoding frames."""
    av = _av()
    try:
        with av.open(io.BytesIO(data)) as c:
            if c.duration is not None:
                return float(c.duration) / 1_000_000
            stream = c.streams.video[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
    except (av.FFmpegError, IndexError) as exc:
        raise UndecodableMedia(f"the video could not be read: {exc}") from None
    return 0.0


def sample_frames(data: bytes, count: int, max_side: int = 512) -> tuple[list[RGB], int, int, int, float]:
    """Decode the video once and keep `count` frames spread over it (RGB, longest side <= max_side).

    Returns (frames, width, height, decoded frame count, duration seconds).
    """
    av = _av()
    try:
        with av.open(io.BytesIO(data)) as c:
            stream = c.streams.video[0]
            stream.thread_type = "AUTO"
            width, height = stream.codec_context.width, stream.codec_context.height
            rate = float(stream.average_rate or 25)
            duration = float(c.duration) / 1_000_000 if c.duration else 0.0
            expected = int(stream.frames or duration * rate or count)
            step = max(1, expected // max(1, count))
            scale = min(1.0, max_side / max(width, height, 1))
            ow, oh = max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)
            frames: list[RGB] = []
            n = 0
            for frame in c.decode(stream):
                if n % step == 0 and len(frames) < count:
                    frames.append(frame.to_ndarray(format="rgb24", width=ow, height=oh))
                n += 1
    except (av.FFmpegError, IndexError) as exc:
        raise UndecodableMedia(f"the video could not be decoded: {exc}") from None
    if n == 0:
        raise UndecodableMedia("the video has no decodable frames")
    return frames, width, height, n, duration or n / rate


def vpdq_hashes(data: bytes, seconds_per_hash: float = 1.0) -> list[FrameHash]:
    """Meta's vPDQ of the video (the library reads a file, so the bytes go to a private temp file)."""
    try:
        import vpdq
    except ImportError as exc:
        raise UndecodableMedia(f"vPDQ needs the vpdq package: pip install 'haven[models]' ({exc})") from None
    fd, path = tempfile.mkstemp(prefix="haven-video-", suffix=".bin")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        feats = vpdq.computeHash(path, seconds_per_hash=seconds_per_hash, thread_count=1)
    except (RuntimeError, ValueError, OSError) as exc:
        raise UndecodableMedia(f"vPDQ could not hash the video: {exc}") from None
    finally:
        os.unlink(path)
    return [FrameHash(int(f.frame_number), round(float(f.timestamp), 3), int(f.quality), str(f.hex)) for f in feats]


def analyse_video(data: bytes, *, sample: int = 16) -> VideoSignals:
    """vPDQ plus `sample` frames for classifiers."""
    frames, width, height, count, duration = sample_frames(data, sample)
    return VideoSignals(duration, width, height, count, vpdq_hashes(data), frames)


def vpdq_similarity(
    a: list[FrameHash], b: list[FrameHash], *, distance: int = 31, min_quality: int = 50
) -> tuple[float, float]:
    """Meta's vPDQ match: (percentage of a's good frames matched in b, and of b's in a)."""

    qa = [x.pdq for x in a if x.quality >= min_quality]
    qb = [x.pdq for x in b if x.quality >= min_quality]
    if not qa or not qb:
        return 0.0, 0.0
    ua, ub = sorted(set(qa)), sorted(set(qb))
    a_in_b = sum(1 for h in ua if any(hamming(h, g) <= distance for g in ub)) / len(ua)
    b_in_a = sum(1 for h in ub if any(hamming(h, g) <= distance for g in ua)) / len(ub)
    return 100 * a_in_b, 100 * b_in_a
