"""The matcher runtime on the real database: bank changes reach a separate process's matcher on
refresh without a rebuild, and a restart from a snapshot plus the later changes gives the same
answers as a full load."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import update

from haven.banks import runtime as runtime_module
from haven.banks import service
from haven.banks.formats import EntryIn
from haven.banks.index import words_to_hex
from haven.banks.runtime import MatcherRuntime, snapshot_path
from haven.core.db import Database
from haven.core.models import Counter
from haven.core.settings import Settings

RNG = np.random.default_rng(20261121)
BASE = RNG.integers(0, 2**64, size=(40, 4), dtype=np.uint64)


def _pdq(i: int, flips: int = 0) -> str:
    """Hash number i of a fixed set, with its first `flips` bits flipped."""
    words = BASE[i].copy()
    for bit in range(flips):
        words[bit // 64] ^= np.uint64(1) << np.uint64(63 - bit % 64)
    return words_to_hex(words)[0]


def _md5(i: int) -> str:
    return f"{i:032x}"


def _bank(db: Database, name: str, values: list[tuple[str, str]], threshold: int = 31) -> tuple[str, list[str]]:
    with db.session() as s:
        bank = service.create_bank(s, name=name, kind="known_csam", actor="test", pdq_threshold=threshold)
        ids = service.add_entries(s, bank, [EntryIn(t, v, "A1") for t, v in values], actor="test")
        return bank.id, ids


def _answers(rt: MatcherRuntime) -> list[list[tuple[str, int]]]:
    """Every test query's hits (entry id, distance), PDQ and exact."""
    out = []
    for i in range(40):
        for flips in (0, 12, 30, 40):
            hits = rt.matcher.match_pdq([("original", _pdq(i, flips))])
            out.append(sorted((h.entry.entry_id, h.distance) for h in hits))
        out.append(sorted((h.entry.entry_id, h.distance) for h in rt.matcher.match_exact("md5", _md5(i))))
    return out


def test_changes_reach_a_separate_runtime_without_rebuild(db: Database, settings: Settings) -> None:
    _bank(db, "first", [("pdq", _pdq(0)), ("md5", _md5(0))])
    rt = MatcherRuntime(db, settings, snapshot_after=None)
    rt.refresh()
    assert rt.readiness()["ready"] and rt.loaded_from == "database"
    index = rt.matcher.index
    assert [h.distance for h in rt.matcher.match_pdq([("original", _pdq(0, 5))])] == [5]
    assert rt.matcher.match_pdq([("original", _pdq(1, 5))]) == []

    with db.session() as s:
        bank = service.get_bank(s, "first")
        (new_id,) = service.add_entries(s, bank, [EntryIn("pdq", _pdq(1), "A2")], actor="test")
    assert rt.refresh() == 1
    assert rt.matcher.index is index and index.slots == 2  # applied in place, not rebuilt
    hits = rt.matcher.match_pdq([("original", _pdq(1, 5))])
    assert [(h.entry.entry_id, h.distance, h.entry.classification) for h in hits] == [(new_id, 5, "A2")]

    with db.session() as s:
        service.set_entry_enabled(s, service.get_entry(s, new_id), False, actor="test")
    rt.refresh()
    assert rt.matcher.index is index
    assert rt.matcher.match_pdq([("original", _pdq(1, 5))]) == []
    assert len(rt.matcher.match_pdq([("original", _pdq(0))])) == 1

    # A bank update restamps its entries: they keep their slots, with the new threshold.
    assert rt.matcher.match_pdq([("original", _pdq(0, 40))]) == []
    with db.session() as s:
        service.update_bank(s, service.get_bank(s, "first"), {"pdq_threshold": 45}, actor="test")
    assert rt.refresh() == 3
    assert rt.matcher.index is index and index.slots == 2 and rt.matcher.max_threshold == 45
    assert [(h.distance, h.entry.threshold) for h in rt.matcher.match_pdq([("original", _pdq(0, 40))])] == [(40, 45)]
    with db.session() as s:
        service.update_bank(s, service.get_bank(s, "first"), {"pdq_threshold": 20}, actor="test")
    rt.refresh()
    assert rt.matcher.max_threshold == 20 and rt.matcher.match_pdq([("original", _pdq(0, 25))]) == []
    with db.session() as s:
        service.set_entry_enabled(s, service.get_entry(s, new_id), True, actor="test")
    rt.refresh()
    assert index.slots == 3 and [h.entry.entry_id for h in rt.matcher.match_pdq([("q", _pdq(1))])] == [new_id]


def test_restart_from_snapshot_then_later_changes_equals_full_load(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, ids_a = _bank(db, "a", [("pdq", _pdq(i)) for i in range(20)] + [("md5", _md5(i)) for i in range(5)])
    _bank(db, "b", [("pdq", _pdq(i, 20)) for i in range(10, 30)] + [("md5", _md5(9))], threshold=20)
    _bank(db, "untouched", [("pdq", _pdq(i, 8)) for i in range(5, 15)] + [("md5", _md5(i)) for i in range(10, 13)])
    first = MatcherRuntime(db, settings, snapshot_after=None)
    path = first.write_snapshot()
    assert path == snapshot_path(settings) and path.exists()
    with np.load(path, allow_pickle=False) as data:  # plain arrays only
        assert "index_words" in data.files and int(data["seq"]) == first.matcher.seq
    snap_seq = first.matcher.seq

    # Changes after the snapshot: new entries, a disabled entry, a threshold change, a deleted bank.
    _bank(db, "c", [("pdq", _pdq(i, 3)) for i in range(30, 40)] + [("md5", _md5(7))])
    with db.session() as s:
        service.set_entry_enabled(s, service.get_entry(s, ids_a[3]), False, actor="test")
        service.update_bank(s, service.get_bank(s, "b"), {"pdq_threshold": 40}, actor="test")
    with db.session() as s:
        service.delete_bank(s, service.get_bank(s, "a"), actor="test")
    with db.session() as s:
        service.add_entries(s, service.get_bank(s, "c"), [EntryIn("pdq", _pdq(3, 1))], actor="test")

    asked: list[int] = []
    real = runtime_module.load_changes

    def spy(session, after_seq):  # type: ignore[no-untyped-def]
        asked.append(after_seq)
        return real(session, after_seq)

    monkeypatch.setattr(runtime_module, "load_changes", spy)
    restarted = MatcherRuntime(db, settings, snapshot_after=None)
    restarted.refresh()
    assert restarted.loaded_from == "snapshot"
    assert asked == [snap_seq]  # only the changes after the snapshot were read

    fresh_settings = settings.model_copy(update={"var_dir": settings.var_dir / "elsewhere"})
    full = MatcherRuntime(db, fresh_settings, snapshot_after=None)
    full.refresh()
    assert full.loaded_from == "database"
    want = _answers(full)
    assert sum(len(a) for a in want) > 40  # real hits, not empty answers
    assert _answers(restarted) == want
    assert restarted.matcher.stats() == full.matcher.stats()


def test_snapshot_written_after_a_large_refresh_and_ignored_when_ahead(db: Database, settings: Settings) -> None:
    _bank(db, "many", [("pdq", _pdq(i)) for i in range(10)])
    rt = MatcherRuntime(db, settings, snapshot_after=5)
    assert not snapshot_path(settings).exists()
    rt.refresh()
    assert snapshot_path(settings).exists()
    assert MatcherRuntime(db, settings).refresh() == 0  # started from it: nothing left to read

    # A database that went back (restored, recreated) is behind the snapshot: start from scratch.
    with db.session() as s:
        s.execute(update(Counter).where(Counter.name == "banks").values(value=0))
    again = MatcherRuntime(db, settings, snapshot_after=None)
    again.refresh()
    assert again.loaded_from == "database"


def test_corrupt_snapshot_is_ignored(db: Database, settings: Settings) -> None:
    _bank(db, "x", [("pdq", _pdq(0))])
    path = snapshot_path(settings)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a snapshot")
    rt = MatcherRuntime(db, settings, snapshot_after=None)
    rt.refresh()
    assert rt.loaded_from == "database" and len(rt.matcher.match_pdq([("original", _pdq(0))])) == 1


def test_cli_bank_snapshot(db: Database, settings: Settings) -> None:
    _bank(db, "cli", [("pdq", _pdq(i)) for i in range(3)])
    env = {**os.environ, "HAVEN_VAR_DIR": str(settings.var_dir), "HAVEN_DATABASE_URL": settings.effective_database_url}
    haven = Path(sys.executable).with_name("haven")
    done = subprocess.run([str(haven), "bank", "snapshot"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "snapshot of 3 entries" in done.stdout
    rt = MatcherRuntime(db, settings, snapshot_after=None)
    rt.refresh()
    assert rt.loaded_from == "snapshot" and len(rt.matcher) == 3


def _mapped(a: np.ndarray) -> bool:
    import mmap

    while a is not None:
        if isinstance(a, mmap.mmap):
            return True
        a = a.base  # type: ignore[assignment]
    return False


def test_snapshot_index_is_memory_mapped_and_still_takes_changes(db: Database, settings: Settings) -> None:
    """Workers share the snapshot's index pages: hashes and postings are mapped, not copied, and
    a later change goes to the process's own delta without writing to the mapped file."""
    _bank(db, "shared", [("pdq", _pdq(i)) for i in range(30)])
    path = MatcherRuntime(db, settings, snapshot_after=None).write_snapshot()
    before = path.read_bytes()
    rt = MatcherRuntime(db, settings, snapshot_after=None)
    rt.refresh()
    view = rt.matcher.index.view
    assert rt.loaded_from == "snapshot"
    assert _mapped(view.base) and all(_mapped(r) for r in view.post_rows) and all(_mapped(r) for r in view.off_rows)
    assert _mapped(rt.matcher._ids.base) and _mapped(rt.matcher._ids.order)  # entry ids: no Python object per slot
    _, [new_id] = _bank(db, "later", [("pdq", _pdq(3, 40))])
    rt.refresh()
    assert new_id in [h.entry.entry_id for h in rt.matcher.match_pdq([("q", _pdq(3, 40))])]
    assert path.read_bytes() == before


def test_an_empty_matcher_is_built_from_what_arrives_and_kept_while_nothing_changes(
    db: Database, settings: Settings
) -> None:
    """A process that starts on an empty database keeps its matcher while nothing changes (no
    rebuild per poll), and builds the entries that arrive later as a full load would."""
    rt = MatcherRuntime(db, settings, snapshot_after=None)
    rt.refresh()
    first = rt.matcher
    assert rt.refresh() == 0 and rt.matcher is first
    _bank(db, "late", [("pdq", _pdq(i)) for i in range(6)] + [("md5", _md5(1))])
    assert rt.refresh() == 7 and rt.matcher is not first
    fresh = MatcherRuntime(db, settings.model_copy(update={"var_dir": settings.var_dir / "other"}), snapshot_after=None)
    fresh.refresh()
    assert _answers(rt) == _answers(fresh) and rt.matcher.stats() == fresh.matcher.stats()
