"""Retroaction benchmark: time to retro-match N new entries against M stored upload hashes with
`haven.exchange.retro.retro_match` (the matching itself, in memory: half the entries MD5, half
PDQ at threshold 31; every upload has an MD5 and a PDQ). Random hashes plus 100 planted hits.

    PYTHONPATH=src .venv/bin/python bench/exchange_retro.py [entries] [uploads]
"""

from __future__ import annotations

import os
import sys
import time

from haven.exchange.retro import NewEntry, Upload, retro_match


def main() -> None:
    n_entries = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    n_uploads = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    rnd = os.urandom
    entries = [NewEntry(f"e{i}", "md5", rnd(16).hex(), 0) for i in range(n_entries // 2)]
    entries += [NewEntry(f"p{i}", "pdq", rnd(32).hex(), 31) for i in range(n_entries - n_entries // 2)]
    uploads = [Upload(f"c{i}", rnd(16).hex(), None, None, rnd(32).hex()) for i in range(n_uploads)]
    for k in range(50):  # planted: exact md5 and PDQ at distance 8
        uploads[k * 997] = Upload(uploads[k * 997].content_id, entries[k].value, None, None, uploads[k * 997].pdq)
        p = entries[n_entries // 2 + k].value
        near = f"{int(p, 16) ^ 0xFF:064x}"
        uploads[k * 991 + 1] = Upload(uploads[k * 991 + 1].content_id, uploads[k * 991 + 1].md5, None, None, near)
    t = time.perf_counter()
    hits = list(retro_match(entries, uploads))
    seconds = time.perf_counter() - t
    print(
        f"RESULT exchange_retro entries={n_entries} uploads={n_uploads} hits={len(hits)} "
        f"seconds={seconds:.2f} uploads_per_s={n_uploads / seconds:,.0f}"
    )


if __name__ == "__main__":
    main()
