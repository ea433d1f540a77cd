"""The matcher around the index: per-bank thresholds, the largest threshold kept current through
changes, and the snapshot arrays round trip."""

from __future__ import annotations

import numpy as np

from haven.banks.index import words_to_hex
from haven.banks.matcher import EntryMeta, Matcher


def _hex(words: np.ndarray) -> str:
    return words_to_hex(words)[0]


def _flipped(words: np.ndarray, bits: int) -> np.ndarray:
    out = words.copy()
    for b in range(bits):
        out[b // 64] ^= np.uint64(1) << np.uint64(b % 64)
    return out


def _meta(entry_id: str, value: str, threshold: int, signal: str = "pdq") -> EntryMeta:
    return EntryMeta(entry_id, f"bank{threshold}", "known_csam", signal, value, "A1", threshold, False)


def test_each_bank_threshold_and_the_largest_one_follow_changes() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.integers(0, 2**64, size=(2, 4), dtype=np.uint64)
    m = Matcher()
    m.apply([(_meta("strict", _hex(a), 20), True), (_meta("loose", _hex(b), 60), True)], seq=1)
    assert m.max_threshold == 60
    assert [h.entry.entry_id for h in m.match_pdq([("q", _hex(_flipped(a, 40)))])] == []
    assert [(h.entry.entry_id, h.distance) for h in m.match_pdq([("q", _hex(_flipped(b, 40)))])] == [("loose", 40)]
    # The flipped variant is the one that matched.
    hits = m.match_pdq([("far", _hex(_flipped(a, 90))), ("near", _hex(_flipped(a, 3)))])
    assert [(h.entry.entry_id, h.distance, h.query_variant) for h in hits] == [("strict", 3, "near")]

    restored = Matcher.from_arrays(m.to_arrays())
    assert restored.max_threshold == 60 and restored.seq == 1

    m.apply([(_meta("loose", _hex(b), 60), False)], seq=2)
    assert m.max_threshold == 20 and len(m) == 1
    m.apply([(_meta("md5", "ab" * 16, 0, signal="md5"), True)], seq=3)
    assert m.max_threshold == 20
    restored = Matcher.from_arrays(m.to_arrays())
    assert restored.max_threshold == 20 and restored.stats() == m.stats()
    assert [h.entry.entry_id for h in restored.match_exact("md5", "AB" * 16)] == ["md5"]
