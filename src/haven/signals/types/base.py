"""The `SignalType` protocol: what Haven needs to know about one kind of hash.

Shaped after python-threatexchange's `SignalType` (name, content types, `validate_signal_str`,
`compare_hash`, examples), plus what Haven's doors need: whether the type can be banked or looked
up today, the length bounds the wire schemas check before anything else, and whether matching is
exact (a dictionary lookup) or perceptual (a distance within a threshold).

Pure: no database, no settings, no I/O.
"""

from __future__ import annotations

import re
from typing import Protocol, runtime_checkable

#: Media kinds a signal type can apply to (`ContentItem.media_kind` values, plus "file").
MediaKind = str


class InvalidSignal(ValueError):
    """A value that is not a well-formed value of its signal type."""


@runtime_checkable
class SignalType(Protocol):
    """One kind of signal (hash). Register an instance in `haven.signals.types.REGISTRY`."""

    #: Compact lower_snake name, as it appears on the wire and in `bank_entries.signal_type`.
    name: str
    #: Media kinds this signal is computed from ("image", "video", "file", ...).
    media_kinds: frozenset[MediaKind]
    #: True: values match only when equal (distance 0 or 1); False: perceptual, by `distance`.
    exact: bool
    #: Largest distance that counts as a match by default (0 for exact types).
    default_threshold: int
    #: Whether bank entries of this type can be added or imported today.
    bankable: bool
    #: Whether `POST /v1/hashes/lookup` accepts queries of this type today.
    lookupable: bool
    #: Why not, when the type is registered but not bankable or not lookupable ("" otherwise).
    unsupported_reason: str
    #: Length bounds of a well-formed value (the wire schemas check them before `validate`).
    min_length: int
    max_length: int
    #: What a valid value looks like, for error messages ("32 hex digits").
    value_hint: str
    #: Well-formed example values (for tests, demos and documentation).
    examples: tuple[str, ...]

    def normalise(self, value: str) -> str:
        """The canonical form of a value (never raises; a malformed value stays malformed)."""
        ...

    def is_valid(self, value: str) -> bool:
        """Whether an already normalised value is well-formed (the hot path: cheap)."""
        ...

    def validate(self, value: str) -> str:
        """The normalised value, or `InvalidSignal` saying what is wrong with it."""
        ...

    def distance(self, a: str, b: str) -> int:
        """Distance of two valid values (exact types: 0 when equal, else 1)."""
        ...


class HexSignalType:
    """A signal whose value is a fixed number of hex digits (lowercase in canonical form).

    Subclasses (or instances) set the attributes; `distance` defaults to equality, so an exact
    hash type is a one-line instance: `HexSignalType("md5", 32, ...)`.
    """

    __slots__ = (
        "_match",
        "bankable",
        "default_threshold",
        "exact",
        "examples",
        "lookupable",
        "max_length",
        "media_kinds",
        "min_length",
        "name",
        "unsupported_reason",
        "value_hint",
    )

    def __init__(
        self,
        name: str,
        hex_digits: int,
        *,
        media_kinds: frozenset[MediaKind],
        examples: tuple[str, ...],
        exact: bool = True,
        default_threshold: int = 0,
        bankable: bool = True,
        lookupable: bool = True,
        unsupported_reason: str = "",
    ) -> None:
        self.name = name
        self.media_kinds = media_kinds
        self.exact = exact
        self.default_threshold = default_threshold
        self.bankable = bankable
        self.lookupable = lookupable
        self.unsupported_reason = unsupported_reason
        self.min_length = self.max_length = hex_digits
        self.value_hint = f"{hex_digits} hex digits"
        self.examples = examples
        # Precompiled once per type: the lookup path validates up to 1,000 values per request.
        self._match = re.compile(f"[0-9a-f]{{{hex_digits}}}").fullmatch

    def normalise(self, value: str) -> str:
        return value.strip().lower()

    def is_valid(self, value: str) -> bool:
        return self._match(value) is not None

    def validate(self, value: str) -> str:
        v = self.normalise(value)
        if self._match(v) is None:
            raise InvalidSignal(f"'{value[:80]}' is not a valid {self.name} value ({self.value_hint})")
        return v

    def distance(self, a: str, b: str) -> int:
        return 0 if a == b else 1

    def __repr__(self) -> str:
        return f"<SignalType {self.name}>"
