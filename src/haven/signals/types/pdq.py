"""PDQ (Meta's 256-bit perceptual image hash) in its exchanged hex form: Hamming distance,
31 bits by default (banks override it with `pdq_threshold`). Computing it: `haven.signals.pdq`."""

from __future__ import annotations

from haven.signals.pdq import hamming
from haven.signals.types.base import HexSignalType


class PDQSignalType(HexSignalType):
    __slots__ = ()

    def distance(self, a: str, b: str) -> int:
        return hamming(a, b)


PDQ = PDQSignalType(
    "pdq",
    64,
    media_kinds=frozenset({"image"}),
    exact=False,
    default_threshold=31,
    examples=(
        "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
        "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b2d",
    ),
)
