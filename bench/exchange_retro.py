"""Retroaction benchmark: time to retro-match N new entries against M stored upload hashes with
`haven.exchange.retro.retro_match` (the matching itself, in memory: half the entries MD5, half
PDQ at threshold 31; every upload has an MD5 and a PDQ), the uploads fed as batches of columns
of 20,000 as `run_retro` reads them from `content_items`. Random hashes plus 100 planted hits.
(In the database MD5/SHA-256 are looked up through the indexed columns, not scanned: this
in-memory figure is the upper bound of the exact part.)

    PYTHONPATH=src .venv/bin/python bench/exchange_retro.py [entries] [uploads]
"""

from __future__ import annotations

import os
import sys
import time

from haven.exchange.retro import BATCH, NewEntry, UploadBatch, retro_match


def main() -> None:
    n_entries = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    n_uploads = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    rnd = os.urandom
    entries = [NewEntry(f"e{i}", "md5", rnd(16).hex(), 0) for i in range(n_entries // 2)]
    entries += [NewEntry(f"p{i}", "pdq", rnd(32).hex(), 31) for i in range(n_entries - n_entries // 2)]
    ids = [f"c{i}" for i in range(n_uploads)]
    md5: list[str | None] = [rnd(16).hex() for _ in range(n_uploads)]
    pdq: list[str | None] = [rnd(32).hex() for _ in range(n_uploads)]
    for k in range(50):  # planted: exact md5 and PDQ at distance 8
        md5[k * 997] = entries[k].value
        p = entries[n_entries // 2 + k].value
        pdq[k * 991 + 1] = f"{int(p, 16) ^ 0xFF:064x}"
    none: list[str | None] = [None] * BATCH
    batches = [
        UploadBatch(
            ids[i : i + BATCH],
            md5[i : i + BATCH],
            none[: len(ids[i : i + BATCH])],
            none[: len(ids[i : i + BATCH])],
            pdq[i : i + BATCH],
        )
        for i in range(0, n_uploads, BATCH)
    ]
    t = time.perf_counter()
    hits = list(retro_match(entries, batches))
    seconds = time.perf_counter() - t
    print(
        f"RESULT exchange_retro entries={n_entries} uploads={n_uploads} hits={len(hits)} "
        f"seconds={seconds:.2f} uploads_per_s={n_uploads / seconds:,.0f}"
    )


if __name__ == "__main__":
    main()
