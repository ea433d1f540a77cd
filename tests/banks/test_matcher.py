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


def test_removed_slots_are_compacted_away_with_answers_unchanged(monkeypatch) -> None:
    import haven.banks.matcher as matcher_module

    monkeypatch.setattr(matcher_module, "COMPACT_MIN_DEAD", 10)
    rng = np.random.default_rng(9)
    words = rng.integers(0, 2**64, size=(60, 4), dtype=np.uint64)
    m = Matcher()
    m.apply([(_meta(f"e{i}", _hex(w), 31 + i % 3), True) for i, w in enumerate(words)], seq=1)
    queries = [("q", _hex(_flipped(w, 7))) for w in words]

    def answers() -> list[list[tuple[str, int, int]]]:
        return [[(h.entry.entry_id, h.distance, h.entry.threshold) for h in m.match_pdq([q])] for q in queries]

    m.apply([(_meta(f"e{i}", _hex(words[i]), 31), False) for i in range(0, 60, 3)], seq=2)
    assert m.index.slots == 60  # 20 removed of 60: not yet
    before = answers()
    m.apply([(_meta(f"e{i}", _hex(words[i]), 31), False) for i in range(1, 60, 3)], seq=3)
    assert m.index.slots == 20 and len(m) == 20  # 40 removed > 20 live: compacted
    assert answers() == [a if i % 3 == 2 else [] for i, a in enumerate(before)]
    assert sum(len(a) for a in answers()) == 20
    m.apply([(_meta("new", _hex(words[0]), 31), True)], seq=4)
    assert [h.entry.entry_id for h in m.match_pdq([queries[0]])] == ["new"]
    assert Matcher.from_arrays(m.to_arrays()).stats() == m.stats()


def test_readers_take_no_lock_and_see_stable_entries_through_updates_and_compactions(monkeypatch) -> None:
    """A reader matching while the writer adds, removes, merges and compacts always finds the
    entries that stay, with their own ids (slots renumbered by a compaction are never mixed)."""
    import threading

    import haven.banks.matcher as matcher_module

    monkeypatch.setattr(matcher_module, "COMPACT_MIN_DEAD", 50)
    rng = np.random.default_rng(12)
    stay = rng.integers(0, 2**64, size=(20, 4), dtype=np.uint64)
    m = Matcher()
    m.apply([(_meta(f"stay{i}", _hex(w), 31), True) for i, w in enumerate(stay)], 1)
    queries = [[("q", _hex(_flipped(w, 5)))] for w in stay]
    stop = threading.Event()
    problems: list[str] = []

    def read() -> None:
        while not stop.is_set():
            for i, hits in enumerate(m.match_pdq_groups(queries)):
                ids = [h.entry.entry_id for h in hits]
                if ids != [f"stay{i}"]:
                    problems.append(f"query {i}: {ids}")

    reader = threading.Thread(target=read)
    reader.start()
    try:
        m._lock.acquire()  # the writers' lock held throughout: readers must not need it
        for r in range(30):
            churn = rng.integers(0, 2**64, size=(200, 4), dtype=np.uint64)
            m.apply([(_meta(f"c{r}-{i}", _hex(w), 31), True) for i, w in enumerate(churn)], 2 + 2 * r)
            m.apply([(_meta(f"c{r}-{i}", _hex(w), 31), False) for i, w in enumerate(churn)], 3 + 2 * r)
    finally:
        m._lock.release()
        stop.set()
        reader.join(timeout=30)
    assert not problems, problems[:5]
    assert m.index.slots < 20 + 30 * 200  # compactions happened while the reader read


def test_the_kernel_releases_the_gil() -> None:
    """While one thread is inside a long kernel call, another keeps running Python in the middle
    of it (with the GIL held it could not run at all until the call returned)."""
    import threading
    import time

    from haven.banks import kernel
    from haven.banks.index import PDQIndex

    if not kernel.available():
        import pytest

        pytest.skip("the kernel is not built")
    rng = np.random.default_rng(2)
    index = PDQIndex()
    index.add(rng.integers(0, 2**64, size=(200_000, 4), dtype=np.uint64))
    index.merge()
    # Radius 80 over random hashes: buckets too full, so each query scans every slot; no hits.
    qs = rng.integers(0, 2**64, size=(600, 4), dtype=np.uint64)
    span: list[float] = []

    def search() -> None:
        span.append(time.perf_counter())
        index.search_batch(qs, 80, use_kernel=True)
        span.append(time.perf_counter())

    stamps: list[float] = []
    worker = threading.Thread(target=search)
    worker.start()
    while worker.is_alive():
        stamps.append(time.perf_counter())
    worker.join()
    start, end = span
    d = end - start
    middle = [t for t in stamps if start + d / 4 < t < end - d / 4]
    assert d > 0.05 and len(middle) > 100, (d, len(stamps), len(middle))


def test_entry_ids_from_a_snapshot_follow_changes_like_a_matcher_built_from_scratch(monkeypatch) -> None:
    """Restored from arrays, the slot <-> entry table is the snapshot's byte array plus overlays
    (no Python string per slot); removals, re-adds, metadata upserts and a compaction applied to
    it answer exactly as the same changes applied to a matcher that never saw a snapshot."""
    import haven.banks.matcher as matcher_module

    monkeypatch.setattr(matcher_module, "COMPACT_MIN_DEAD", 10)
    rng = np.random.default_rng(21)
    words = rng.integers(0, 2**64, size=(80, 4), dtype=np.uint64)
    first = [(_meta(f"01ENTRY{i:019d}", _hex(w), 31), True) for i, w in enumerate(words[:60])]
    fresh = Matcher()
    fresh.apply(first, seq=1)
    restored = Matcher.from_arrays(fresh.to_arrays())
    ids = restored._ids
    assert ids.base.dtype.kind == "S" and len(ids.base) == 60 and not ids.slot_over and len(ids) == 60
    assert ids.slot("01ENTRY" + "7".zfill(19)) == 7 and ids.slot("nope") is None and ids.slot("x" * 40) is None
    steps = [
        [(_meta(f"01ENTRY{i:019d}", _hex(words[i]), 31), False) for i in range(0, 30, 2)],  # removals
        [(_meta(f"01ENTRY{i:019d}", _hex(words[i]), 31), True) for i in range(60, 80)],  # new entries
        [(_meta(f"01ENTRY{i:019d}", _hex(words[i]), 40), True) for i in range(1, 10, 2)],  # same hash, new threshold
        [(_meta(f"01ENTRY{0:019d}", _hex(words[79]), 31), True)],  # a removed id comes back with another hash
        [(_meta(f"01ENTRY{i:019d}", _hex(words[i]), 31), False) for i in range(30, 60)],  # enough to compact
    ]
    queries = [("q", _hex(_flipped(w, 5))) for w in words]
    for k, step in enumerate(steps, start=2):
        fresh.apply(step, seq=k)
        restored.apply(step, seq=k)
        for q in queries:
            want = [(h.entry.entry_id, h.distance, h.entry.threshold) for h in fresh.match_pdq([q])]
            assert [(h.entry.entry_id, h.distance, h.entry.threshold) for h in restored.match_pdq([q])] == want
        assert restored.stats() == fresh.stats()
    assert restored.index.slots < 80  # the last step compacted
    again = Matcher.from_arrays(restored.to_arrays())
    assert [[h.entry.entry_id for h in again.match_pdq([q])] for q in queries] == [
        [h.entry.entry_id for h in fresh.match_pdq([q])] for q in queries
    ]


def test_a_full_load_built_in_chunks_equals_one_applied_at_once() -> None:
    """`Matcher.build` (the cold start: chunks straight into arrays) makes the very matcher that
    `apply` makes from the same entries: every snapshot array equal, the same answers."""
    from haven.core.clock import new_ids

    rng = np.random.default_rng(8)
    words = rng.integers(0, 2**63, size=(3000, 4), dtype=np.int64).astype(np.uint64)
    ids = new_ids(3200)
    entries: list[tuple[EntryMeta, bool]] = []
    for i, w in enumerate(words):
        meta = EntryMeta(
            ids[i], f"bank{i % 3}", "known_csam", "pdq", _hex(w), ["A1", None, "B2"][i % 3], 31 + i % 3, i % 7 == 0
        )
        entries.append((meta, i % 11 != 0))  # some disabled: not loaded
    for i in range(200):
        value = f"{i:032x}"
        entries.append((EntryMeta(ids[3000 + i], "bank9", "known_csam", "md5", value, "A2", 0, False), True))
    rng.shuffle(entries)  # type: ignore[arg-type]
    applied = Matcher()
    applied.apply(entries, 17)
    chunked = Matcher.build((entries[k : k + 450] for k in range(0, len(entries), 450)), 17)
    a, b = applied.to_arrays(), chunked.to_arrays()
    assert sorted(a) == sorted(b)
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    assert chunked.seq == 17 and chunked.max_threshold == applied.max_threshold == 33
    assert chunked.stats() == applied.stats()
    probe = [[("original", _hex(_flipped(w, 9)))] for w in words[:50]]

    def answers(m: Matcher) -> list[list[tuple[str, int, bool]]]:
        return [
            sorted((h.entry.entry_id, h.distance, h.entry.quarantined) for h in g) for g in m.match_pdq_groups(probe)
        ]

    assert answers(chunked) == answers(applied) and any(answers(applied))
