"""Fetch throughput: entries/s applied from the NCMEC double (XML v2, 1,000 records a page, each
with MD5 + PDQ + PhotoDNA) into a bank on a migrated SQLite database (or, with
`HAVEN_BENCH_DB=postgresql+psycopg://user@host/db`, a fresh database created beside `db` and
dropped after), through the real client, the outbound guard, the checkpoint and the bulk
provenance writes.

    PYTHONPATH=src:. .venv/bin/python bench/exchange_fetch.py [records]
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

os.environ.setdefault("HAVEN_OUTBOUND_ALLOWED_NETWORKS", '["127.0.0.0/8"]')
import base64

os.environ.setdefault("HAVEN_SECRETS_KEY", base64.b64encode(os.urandom(32)).decode())

from tests.exchange.doubles import NCMECRecord, NCMECState, ncmec_double

from haven.banks.service import create_bank
from haven.core.db import Database
from haven.core.migrate import upgrade
from haven.exchange.service import create_exchange, fetch


@contextmanager
def database_url() -> Iterator[str]:
    server = os.environ.get("HAVEN_BENCH_DB")
    if not server:
        yield f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        return
    import psycopg

    admin = server.replace("postgresql+psycopg://", "postgresql://")
    name = f"haven_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def main() -> None:
    with database_url() as url:
        run(url)


def run(url: str) -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    upgrade(url)
    db = Database(url)
    records = [
        NCMECRecord(str(i), 5, {"md5": secrets.token_hex(16), "pdq": secrets.token_hex(32), "pdna": "AAEC" * 36})
        for i in range(n)
    ]
    state = NCMECState(records=records, page_size=1000)
    with ncmec_double(state) as srv:
        with db.session() as s:
            create_bank(s, name="bench", kind="known_csam", actor="bench")
            ex = create_exchange(
                s,
                name="bench",
                kind="ncmec",
                base_url=srv.url,
                lists={"*": "bench"},
                actor="bench",
                credentials={"username": "esp-user", "password": "esp-pass"},
            )
            ex_id = ex.id
        t = time.perf_counter()
        summary = fetch(db, ex_id)
        seconds = time.perf_counter() - t
    db.engine.dispose()
    fingerprints = summary["added"]
    print(
        f"RESULT exchange_fetch backend={db.engine.dialect.name} records={n} fingerprints={fingerprints} "
        f"pages={summary['pages']} seconds={seconds:.2f} entries_per_s={fingerprints / seconds:,.0f}"
    )


if __name__ == "__main__":
    main()
