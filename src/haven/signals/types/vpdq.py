"""vPDQ (Meta's video hash): not one hash but a list of per-frame features, one PDQ hash of a
frame per second with its quality and timestamp.

The value is python-threatexchange's compact form, a JSON list of `"pdq_hex,quality,timestamp"`
strings. Distance is the percentage of good frames (quality >= 50) *not* matched within 31 bits,
in the worse of the two directions (Meta's query and compared match percentages); 20 by default,
i.e. both videos have at least 80% of their frames in the other.

**Not bankable and not lookupable today.** A vPDQ value is a list of frames, far longer than a
`bank_entries.value` (128 characters), and the match index has no video index: Haven matches
videos by looking up each frame's PDQ hash in the image banks (`screening/signals.py`), so bank
or look up those frames as `pdq` values. The registry says so, and every door refuses a vPDQ entry
or query with this reason instead of pretending to match it.
"""

from __future__ import annotations

import json

from haven.signals.types.base import InvalidSignal
from haven.signals.video import FrameHash, vpdq_similarity

#: Meta's defaults (vpdq's README, python-threatexchange's VPDQ signal).
FRAME_DISTANCE = 31
MIN_FRAME_QUALITY = 50


def to_value(frames: list[FrameHash]) -> str:
    """The compact JSON form of a video's vPDQ features."""
    return json.dumps([f"{f.pdq},{f.quality},{f.timestamp:.3f}" for f in frames], separators=(",", ":"))


def from_value(value: str) -> list[FrameHash]:
    """The features of a compact JSON value; `InvalidSignal` when it is not one."""
    try:
        items = json.loads(value)
    except ValueError:
        raise InvalidSignal("a vpdq value is a JSON list of 'pdq_hex,quality,timestamp' strings") from None
    if not isinstance(items, list) or not items:
        raise InvalidSignal("a vpdq value is a non-empty JSON list of 'pdq_hex,quality,timestamp' strings")
    frames = []
    for i, item in enumerate(items):
        parts = item.split(",") if isinstance(item, str) else []
        try:
            pdq, quality, ts = parts[0].strip().lower(), int(parts[1]), float(parts[2])
        except (IndexError, ValueError):
            raise InvalidSignal(f"vpdq feature {i} is not 'pdq_hex,quality,timestamp'") from None
        if len(parts) != 3 or len(pdq) != 64 or not _is_hex(pdq) or not 0 <= quality <= 100 or ts < 0:
            raise InvalidSignal(f"vpdq feature {i} is not 'pdq_hex,quality,timestamp' (64 hex digits, 0-100, >= 0)")
        frames.append(FrameHash(i, ts, quality, pdq))
    return frames


def _is_hex(s: str) -> bool:
    return all(c in "0123456789abcdef" for c in s)


class VPDQSignalType:
    name = "vpdq"
    media_kinds = frozenset({"video"})
    exact = False
    default_threshold = 20
    bankable = False
    lookupable = False
    unsupported_reason = (
        "vpdq values are per-frame feature lists, not one hash; vpdq entries cannot be banked or looked up yet: "
        "send each frame's PDQ hash as a pdq value (Haven matches video frames against image banks)"
    )
    min_length = 2
    max_length = 1_000_000
    value_hint = "a JSON list of 'pdq_hex,quality,timestamp' strings"
    examples: tuple[str, ...] = (
        to_value(
            [
                FrameHash(0, 0.0, 100, "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"),
                FrameHash(1, 1.0, 96, "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b2d"),
            ]
        ),
        to_value([FrameHash(0, 0.0, 90, "07070f311f0b57b0f9c8f5ddfc709c0f4c91d12a699de1e2cc194c63b16364dd")]),
    )

    def normalise(self, value: str) -> str:
        try:
            return to_value(from_value(value))
        except InvalidSignal:
            return value.strip()

    def is_valid(self, value: str) -> bool:
        try:
            from_value(value)
        except InvalidSignal:
            return False
        return True

    def validate(self, value: str) -> str:
        return to_value(from_value(value))

    def distance(self, a: str, b: str) -> int:
        ab, ba = vpdq_similarity(from_value(a), from_value(b), distance=FRAME_DISTANCE, min_quality=MIN_FRAME_QUALITY)
        return round(100 - min(ab, ba))

    def __repr__(self) -> str:
        return "<SignalType vpdq>"


VPDQ = VPDQSignalType()
