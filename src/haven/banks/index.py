"""The exact PDQ index: every stored hash within a radius of the query, as brute force finds.

Hashes live in slots of plain NumPy arrays (32 bytes each, stored as four uint64 words) so the
index can be saved with `numpy.save` and loaded without pickle. Adding appends to a slot;
removing marks the slot dead. Nothing is ever rebuilt on change.

This module is pure: no database, no settings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]


def hex_to_words(values: list[str]) -> U64:
    """Hex PDQ strings to an (n, 4) uint64 array (big-endian words, so bit order is kept)."""
    if not values:
        return np.zeros((0, 4), dtype=np.uint64)
    raw = np.frombuffer(bytes.fromhex("".join(values)), dtype=">u8").reshape(-1, 4)
    return raw.astype(np.uint64)


def words_to_hex(words: U64) -> list[str]:
    return [row.astype(">u8").tobytes().hex() for row in np.atleast_2d(words)]


class PDQIndex:
    """Exact Hamming-radius search over 256-bit hashes."""

    def __init__(self, capacity: int = 1024) -> None:
        self._words: U64 = np.zeros((capacity, 4), dtype=np.uint64)
        self._alive: npt.NDArray[np.bool_] = np.zeros(capacity, dtype=bool)
        self._size = 0

    def __len__(self) -> int:
        return int(self._alive[: self._size].sum())

    @property
    def slots(self) -> int:
        return self._size

    def _grow(self, need: int) -> None:
        cap = self._words.shape[0]
        if need <= cap:
            return
        new_cap = max(need, cap * 2)
        words = np.zeros((new_cap, 4), dtype=np.uint64)
        words[: self._size] = self._words[: self._size]
        alive = np.zeros(new_cap, dtype=bool)
        alive[: self._size] = self._alive[: self._size]
        self._words, self._alive = words, alive

    def add(self, words: U64) -> npt.NDArray[np.int64]:
        """Append hashes; returns their slot numbers."""
        words = np.atleast_2d(np.asarray(words, dtype=np.uint64))
        n = words.shape[0]
        self._grow(self._size + n)
        start = self._size
        self._words[start : start + n] = words
        self._alive[start : start + n] = True
        self._size += n
        return np.arange(start, start + n, dtype=np.int64)

    def remove(self, slots: npt.ArrayLike) -> None:
        self._alive[np.asarray(slots, dtype=np.int64)] = False

    def search(self, query: U64, radius: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Slots and distances of live hashes within `radius` of one query (4 uint64 words)."""
        q = np.asarray(query, dtype=np.uint64).reshape(4)
        x = np.bitwise_xor(self._words[: self._size], q)
        dist = np.bitwise_count(x).sum(axis=1, dtype=np.int64)
        hit = np.flatnonzero((dist <= radius) & self._alive[: self._size])
        return hit.astype(np.int64), dist[hit]

    def search_many(self, queries: U64, radius: int) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
        return [self.search(q, radius) for q in np.atleast_2d(queries)]

    def save(self, path: Path) -> None:
        """Save as plain arrays (`.npz`, no pickle)."""
        np.savez(path, words=self._words[: self._size], alive=self._alive[: self._size])

    @classmethod
    def load(cls, path: Path) -> PDQIndex:
        with np.load(path, allow_pickle=False) as data:
            words, alive = data["words"], data["alive"]
        index = cls(capacity=max(1024, words.shape[0]))
        index._words[: words.shape[0]] = words
        index._alive[: words.shape[0]] = alive
        index._size = words.shape[0]
        return index
