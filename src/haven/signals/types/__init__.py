"""The signal-type registry: every kind of hash Haven knows, in one place.

Schemas (banks, intake), the bank import formats, the matcher, the lookup door and review read
this registry instead of writing out md5/sha1/sha256/pdq themselves. Adding a signal type is one
module beside these (an object satisfying `SignalType`) and one `REGISTRY.register(...)` line
below; tests register a type for their duration with `REGISTRY.registered(toy)`.

What each door accepts:

| type | exact | default threshold | bankable | lookupable |
|---|---|---|---|---|
| md5, sha1, sha256 | yes | 0 | yes | yes |
| pdq | no (Hamming) | 31 | yes | yes |
| vpdq | no (% of frames) | 20 | no | no (frames go in as pdq) |

Pure: no database, no settings, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from haven.signals.types.base import HexSignalType, InvalidSignal, SignalType
from haven.signals.types.md5 import MD5
from haven.signals.types.pdq import PDQ
from haven.signals.types.sha1 import SHA1
from haven.signals.types.sha256 import SHA256
from haven.signals.types.vpdq import VPDQ

#: What a door does with a value: bank it (entries, imports) or look it up (`/v1/hashes/lookup`).
Purpose = Literal["bank", "lookup"]


class UnknownSignalType(KeyError):
    """A signal type name the registry does not hold."""


class SignalTypeRegistry:
    """Signal types by name, in registration order."""

    def __init__(self) -> None:
        self._types: dict[str, SignalType] = {}
        #: Names accepted per purpose, kept in step by register/unregister and mutated in place,
        #: so validators can hold them and test membership without a call into the registry.
        self.accepted: dict[Purpose, set[str]] = {"bank": set(), "lookup": set()}

    def _sync(self) -> None:
        for purpose, names in self.accepted.items():
            names.clear()
            names.update(t.name for t in self._types.values() if accepts(t, purpose))

    def register(self, signal_type: SignalType) -> SignalType:
        """Add a type; a second type of the same name is refused."""
        if not isinstance(signal_type, SignalType):
            raise TypeError(f"{signal_type!r} does not satisfy the SignalType protocol")
        if signal_type.name in self._types:
            raise ValueError(f"signal type '{signal_type.name}' is registered already")
        self._types[signal_type.name] = signal_type
        self._sync()
        return signal_type

    def unregister(self, name: str) -> None:
        del self._types[name]
        self._sync()

    @contextmanager
    def registered(self, signal_type: SignalType) -> Iterator[SignalType]:
        """Register a type for the duration of a `with` block (tests)."""
        self.register(signal_type)
        try:
            yield signal_type
        finally:
            if self._types.get(signal_type.name) is signal_type:
                self.unregister(signal_type.name)

    def get(self, name: str) -> SignalType | None:
        return self._types.get(name)

    def __getitem__(self, name: str) -> SignalType:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownSignalType(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[SignalType]:
        return iter(list(self._types.values()))

    def __len__(self) -> int:
        return len(self._types)

    def names(self, purpose: Purpose | None = None) -> tuple[str, ...]:
        """Names of every type, or of those a door accepts for `purpose`."""
        return tuple(t.name for t in self._types.values() if purpose is None or accepts(t, purpose))

    def for_purpose(self, purpose: Purpose) -> tuple[SignalType, ...]:
        return tuple(t for t in self._types.values() if accepts(t, purpose))

    def length_bounds(self, purpose: Purpose) -> tuple[int, int]:
        """(shortest, longest) well-formed value over the types accepted for `purpose`: the
        coarse bounds wire schemas apply before each type's own validation."""
        types = self.for_purpose(purpose)
        return min(t.min_length for t in types), max(t.max_length for t in types)

    def problem(self, name: str, value: str, purpose: Purpose) -> str | None:
        """What is wrong with a (type, normalised value) pair for `purpose`, or None."""
        t = self._types.get(name)
        if t is None:
            return f"unknown signal_type '{name}' (expected one of {', '.join(self.names(purpose))})"
        if not accepts(t, purpose):
            return t.unsupported_reason or f"{name} values cannot be {'banked' if purpose == 'bank' else 'looked up'}"
        if not t.is_valid(value):
            return f"'{value[:80]}' is not a valid {name} value ({t.value_hint})"
        return None


def accepts(t: SignalType, purpose: Purpose) -> bool:
    return t.bankable if purpose == "bank" else t.lookupable


#: The registry every door reads.
REGISTRY = SignalTypeRegistry()
REGISTRY.register(MD5)
REGISTRY.register(SHA1)
REGISTRY.register(SHA256)
REGISTRY.register(PDQ)
REGISTRY.register(VPDQ)

__all__ = [
    "MD5",
    "PDQ",
    "REGISTRY",
    "SHA1",
    "SHA256",
    "VPDQ",
    "HexSignalType",
    "InvalidSignal",
    "Purpose",
    "SignalType",
    "SignalTypeRegistry",
    "UnknownSignalType",
    "accepts",
]
