"""Start-up of a process's matcher: full load from the database versus snapshot + later changes.

    .venv/bin/python bench/snapshot.py --entries 200000

Fills a fresh SQLite database (in a temporary folder) with random PDQ entries through
`haven.banks.service`, then measures: a full load by `MatcherRuntime.refresh()`, writing the
snapshot, and a new runtime's start from the snapshot followed by 1,000 entries added after it.
Checks that both runtimes answer 200 queries the same. Ends with one line `RESULT {json}`.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from haven.banks import service
from haven.banks.formats import EntryIn
from haven.banks.index import words_to_hex
from haven.banks.runtime import MatcherRuntime, snapshot_path
from haven.core.db import Database
from haven.core.migrate import upgrade
from haven.core.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    rng = np.random.default_rng(5)
    words = rng.integers(0, 2**64, size=(args.entries + 1000, 4), dtype=np.uint64)
    raw = words.astype(">u8").tobytes().hex()
    values = [raw[i : i + 64] for i in range(0, len(raw), 64)]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'haven.db'}"
        upgrade(url)
        settings = Settings(var_dir=Path(tmp) / "var", database_url=url, _env_file=None)  # type: ignore[call-arg]
        db = Database(url)
        t0 = time.perf_counter()
        with db.session() as s:
            bank = service.create_bank(s, name="bench", kind="known_csam", actor="bench")
            service.add_entries(s, bank, [EntryIn("pdq", v, "A1") for v in values[: args.entries]], actor="bench")
        fill_s = time.perf_counter() - t0

        full = MatcherRuntime(db, settings, snapshot_after=None)
        t0 = time.perf_counter()
        full.refresh()
        full_load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        path = full.write_snapshot()
        write_s = time.perf_counter() - t0

        with db.session() as s:
            service.add_entries(
                s,
                service.get_bank(s, "bench"),
                [EntryIn("pdq", v, "A1") for v in values[args.entries :]],
                actor="bench",
            )
        full.refresh()
        restarted = MatcherRuntime(db, settings, snapshot_after=None)
        t0 = time.perf_counter()
        restarted.refresh()
        snapshot_load_s = time.perf_counter() - t0
        assert restarted.loaded_from == "snapshot"

        queries = [words_to_hex(w)[0] for w in words[rng.integers(0, len(words), 200)] ^ np.uint64(0xFF)]
        same = all(
            [(h.entry.entry_id, h.distance) for h in full.matcher.match_pdq([("q", q)])]
            == [(h.entry.entry_id, h.distance) for h in restarted.matcher.match_pdq([("q", q)])]
            for q in queries
        )
        size_mb = os.path.getsize(snapshot_path(settings)) / 1e6
        db.dispose()
    result = {
        "entries": args.entries,
        "fill_db_s": round(fill_s, 2),
        "full_load_s": round(full_load_s, 2),
        "snapshot_write_s": round(write_s, 2),
        "snapshot_mb": round(size_mb, 1),
        "snapshot_start_s": round(snapshot_load_s, 2),
        "same_answers": same,
    }
    print(
        f"{args.entries} PDQ entries on SQLite: full load {full_load_s:.2f} s; snapshot written in {write_s:.2f} s "
        f"({size_mb:.1f} MB at {path.name}); start from snapshot + 1,000 later entries {snapshot_load_s:.2f} s "
        f"({full_load_s / snapshot_load_s:.1f}x faster); same answers: {same}"
    )
    print("RESULT " + json.dumps({f"start-{args.entries}": {"haven": result}}))


if __name__ == "__main__":
    main()
