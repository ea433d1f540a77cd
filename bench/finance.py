"""Benchmark of `POST /v1/transactions` with many stored transactions.

Seeds STORED transactions (default 1,000,000) over 30 days between 50,000 accounts, with their
aggregates built by the same definitions (`haven.finance.backtest.MemoryAggregates`) and bulk
inserted, then times ROUNDS requests through the application in-process (Starlette's TestClient,
no network), then checks the aggregates kept by the requests exactly against a brute-force
recount from the stored transactions (for every account the timed requests touched).

    .venv/bin/python bench/finance.py [--stored N] [--rounds N] [--url URL]

Ends with one line `RESULT {json}`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from haven.core.db import Database
from haven.core.migrate import upgrade
from haven.core.settings import Settings


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def _bulk(db: Database, table: str, cols: list[str], rows: list[tuple[object, ...]]) -> None:
    """Bulk-load rows as they are stored: PostgreSQL COPY, SQLite executemany on the DB-API
    connection (no ORM objects, no per-row type processing)."""
    if not rows:
        return
    with db.engine.begin() as conn:
        raw = conn.connection.driver_connection
        if db.engine.dialect.name == "postgresql":
            with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:  # type: ignore[union-attr]
                for r in rows:
                    cp.write_row(r)
        else:
            marks = ", ".join("?" for _ in cols)
            raw.execute("PRAGMA cache_size = -262144")  # 256 MB while seeding (this connection only)
            raw.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)  # type: ignore[union-attr]


def _ts(db: Database, at: datetime) -> object:
    """A timestamp as UTCDateTime stores it (naive UTC text on SQLite, timestamptz on PostgreSQL)."""
    if db.engine.dialect.name == "postgresql":
        return at
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


TX_COLS = [
    "id",
    "integration_id",
    "external_id",
    "kind",
    "payer",
    "payee",
    "amount",
    "currency",
    "amount_ref_minor",
    "payer_country",
    "payee_country",
    "occurred_at",
    "received_at",
    "outcome",
    "status",
    "rule",
    "ruleset_version",
    "indicators",
    "shadow",
    "fingerprint",
    "response",
]
BUCKET_COLS = ["scope", "account_id", "counterpart", "width", "bucket", "count", "total"]


def seed(db: Database, n: int, accounts: int, start: datetime) -> dict[str, int]:
    """N stored transactions over 30 days with every aggregate row the request path would have
    written for them: buckets (all of them, expired ones included: nothing prunes them), pairs,
    corridors and the accounts (a few minors). Buckets are streamed out as they close (the
    payments are generated in time order), so memory stays at the open buckets and the pairs."""
    from haven.finance.aggregates import width
    from haven.finance.settings import get_finance_settings

    widths = sorted({width(w) for w in get_finance_settings().windows})
    rnd = random.Random(7)
    pairs: dict[tuple[str, str], list[object]] = {}
    # The open bucket of each width (payments come in time order, so a width's buckets all close
    # together when its bucket number moves on).
    open_b: dict[int, dict[tuple[str, str, str, int, int], list[int]]] = {}
    current = dict.fromkeys(widths, -1)
    step = (30 * 86400 - 3600) / n
    txs: list[tuple[object, ...]] = []
    closed: list[tuple[object, ...]] = []
    counts = {"transactions": 0, "buckets": 0}

    def close(wd: int) -> None:
        closed.extend((*k, v[0], v[1]) for k, v in open_b.pop(wd, {}).items())

    for i in range(n):
        payer, payee = f"a{rnd.randrange(accounts)}", f"a{rnd.randrange(accounts)}"
        if payer == payee:
            continue
        at = start + timedelta(seconds=i * step)
        t = int(at.timestamp())
        cents = rnd.randrange(100, 20000)
        p = pairs.get((payer, payee))
        if p is None:
            pairs[(payer, payee)] = [at, at, 1, cents, cents, 1]
        else:
            p[5] = int(p[5]) + 1 if cents > int(p[4]) else 1  # type: ignore[call-overload]
            p[1], p[2], p[3], p[4] = at, int(p[2]) + 1, int(p[3]) + cents, cents  # type: ignore[call-overload]
        for wd in widths:
            b = t // wd
            if b != current[wd]:
                close(wd)
                current[wd] = b
            ob = open_b.setdefault(wd, {})
            for key in (("o", payer, "", wd, b), ("i", payee, "", wd, b), ("p", payer, payee, wd, b)):
                v = ob.get(key)
                if v is None:
                    ob[key] = [1, cents]
                else:
                    v[0] += 1
                    v[1] += cents
        ts = _ts(db, at)
        txs.append(
            (f"{i:026d}", "bench", f"seed-{i}", "p2p", payer, payee, f"{cents / 100:.2f}", "USD", cents, "US", "US",
             ts, ts, "approve", "approved", "finance.approve", "seed", "[]", "[]", "0" * 64, "{}")
        )  # fmt: skip
        if len(txs) >= 50_000:
            _bulk(db, "finance_transactions", TX_COLS, txs)
            counts["transactions"] += len(txs)
            txs = []
        if len(closed) >= 200_000:
            closed.sort()  # in key order: the B-tree is filled page by page, not at random
            _bulk(db, "finance_buckets", BUCKET_COLS, closed)
            counts["buckets"] += len(closed)
            closed = []
    _bulk(db, "finance_transactions", TX_COLS, txs)
    counts["transactions"] += len(txs)
    for wd in list(open_b):
        close(wd)
    closed.sort()
    _bulk(db, "finance_buckets", BUCKET_COLS, closed)
    counts["buckets"] += len(closed)
    rows = [(a, b, _ts(db, v[0]), _ts(db, v[1]), *v[2:]) for (a, b), v in pairs.items()]  # type: ignore[arg-type]
    cols = ["payer", "payee", "first_at", "last_at", "count", "total", "last_amount", "rising"]
    for i in range(0, len(rows), 200_000):
        _bulk(db, "finance_pairs", cols, rows[i : i + 200_000])
    counts["pairs"] = len(rows)
    first = _ts(db, start)
    _bulk(db, "finance_corridors", ["account_id", "from_country", "to_country", "first_at", "count"],
          [(a, "US", "US", first, 1) for a in {p for p, _ in pairs}])  # fmt: skip
    bands = ["13_15", "16_17"] + ["adult"] * 8
    _bulk(db, "accounts", ["id", "age_band", "state", "created_at", "updated_at"],
          [(f"a{i}", bands[i % 10], "active", first, first) for i in range(accounts)])  # fmt: skip
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return counts


def recount(db: Database, accounts: set[str], windows: list[str], at: datetime) -> tuple[int, int]:
    """Brute force from finance_transactions: count, total and distinct counterparties per window,
    compared with what the request path reads from the kept aggregates
    (`haven.finance.aggregates.windows_of`). Returns (checked, mismatches)."""
    from haven.finance import aggregates as agg
    from haven.finance.models import Transaction

    checked = bad = 0
    t = int(at.timestamp())
    with db.session() as s:
        for acc in sorted(accounts):
            paying, paid, _ = agg.windows_of(s, acc, acc, at, windows)
            for w in windows:
                wd = agg.width(w)
                lo = datetime.fromtimestamp((t // wd - agg.BUCKETS + 1) * wd, UTC)
                lo_d = at - timedelta(seconds=agg.window_seconds(w))
                for col, other, kept in (
                    (Transaction.payer, Transaction.payee, paying[w]),
                    (Transaction.payee, Transaction.payer, paid[w]),
                ):
                    c, tot = s.execute(
                        select(func.count(), func.coalesce(func.sum(Transaction.amount_ref_minor), 0)).where(
                            col == acc, Transaction.occurred_at >= lo, Transaction.occurred_at <= at
                        )
                    ).one()
                    distinct = s.scalar(
                        select(func.count(func.distinct(other))).where(
                            col == acc, Transaction.occurred_at > lo_d, Transaction.occurred_at <= at
                        )
                    )
                    checked += 1
                    if (int(c), Decimal(int(tot)) / 100, int(distinct or 0)) != (
                        kept.count,
                        kept.total,
                        kept.counterparties,
                    ):
                        bad += 1
    return checked, bad


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stored", type=int, default=1_000_000)
    ap.add_argument("--accounts", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=2000, help="requests per repeat")
    ap.add_argument("--repeat", type=int, default=3, help="timed repeats; the RESULT gives their medians")
    ap.add_argument("--url", default="", help="an empty database (default: a new SQLite file)")
    ap.add_argument("--reuse", action="store_true", help="--url was seeded by an earlier run: time it again")
    ap.add_argument("--profile", default="", help="write a pyinstrument HTML profile of the requests here")
    a = ap.parse_args()
    from starlette.testclient import TestClient

    from haven.app import create_app
    from haven.core.auth import create_integration
    from haven.finance.models import Transaction, WindowBucket
    from haven.finance.settings import get_finance_settings

    if a.reuse and not a.url:
        ap.error("--reuse needs --url")
    var = Path(tempfile.mkdtemp(prefix="haven-bench-finance-"))
    url = a.url or f"sqlite:///{var}/bench.db"
    if not a.reuse:
        upgrade(url)
    run = f"{time.time():.0f}"
    db = Database(url)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=30)
    t = time.perf_counter()
    if a.reuse:
        # Time again against a database an earlier run seeded (its payments stay in the recount).
        with db.session() as s:
            counts = {
                "transactions": int(s.scalar(select(func.count()).select_from(Transaction)) or 0),
                "buckets": int(s.scalar(select(func.count()).select_from(WindowBucket)) or 0),
            }
    else:
        counts = seed(db, a.stored, a.accounts, start)
    seeded = time.perf_counter() - t
    print(f"seeded {counts} in {seeded:.1f} s", file=sys.stderr)
    with db.session() as s:
        _, key = create_integration(s, f"bench-{run}", ["intake"])
    settings = Settings(var_dir=var, database_url=url, log_format="console", log_level="WARNING", inline_worker=False)
    app = create_app(settings, db)
    rnd = random.Random(11)
    touched: set[str] = set()
    base = now - timedelta(minutes=60)
    p99s: list[float] = []
    p50s: list[float] = []
    rates: list[float] = []
    cpus: list[float] = []  # CPU milliseconds per request (all threads of this process)
    loads: list[float] = []  # the machine's 1-minute load average after each repeat
    outcomes: dict[str, int] = {}
    profiler = None
    if a.profile:
        from pyinstrument import Profiler

        profiler = Profiler()
    i = 0
    with TestClient(app, base_url="http://testserver", headers={"Authorization": f"Bearer {key}"}) as client:
        for _ in range(a.repeat):
            lat: list[float] = []
            if profiler:
                profiler.start()
            t_all, cpu_all = time.perf_counter(), time.process_time()
            for _ in range(a.rounds):
                i += 1
                payer, payee = f"a{rnd.randrange(a.accounts)}", f"a{rnd.randrange(a.accounts)}"
                if payer == payee:
                    continue
                touched |= {payer, payee}
                abroad = rnd.random() < 0.1  # one in ten: a gift card to a payee abroad
                body = {
                    "external_id": f"bench-{run}-{i}",
                    "kind": "gift_card" if abroad else "p2p",
                    "payer": payer,
                    "payee": payee,
                    "amount": f"{rnd.randrange(100, 20000) / 100:.2f}",
                    "currency": "USD",
                    "payer_country": "US",
                    "payee_country": rnd.choice(["NG", "PH", "CI", "GB"]) if abroad else "US",
                    "occurred_at": (base + timedelta(milliseconds=i * 500)).isoformat(),
                }
                t = time.perf_counter()
                r = client.post("/v1/transactions", json=body)
                lat.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, r.text
                outcomes[r.json()["outcome"]] = outcomes.get(r.json()["outcome"], 0) + 1
            total = time.perf_counter() - t_all
            cpus.append((time.process_time() - cpu_all) * 1000 / len(lat))
            loads.append(os.getloadavg()[0])
            if profiler:
                profiler.stop()
            p50s.append(pct(lat, 50))
            p99s.append(pct(lat, 99))
            rates.append(len(lat) / total)
            print(f"repeat: {len(lat)} requests, {rates[-1]:.0f}/s, p50 {p50s[-1]:.2f} ms, p99 {p99s[-1]:.2f} ms, "
                  f"CPU {cpus[-1]:.2f} ms/request, load {loads[-1]:.1f}",
                  file=sys.stderr)  # fmt: skip
    if profiler:
        Path(a.profile).write_text(
            profiler.output_html() if a.profile.endswith(".html") else profiler.output_text(show_all=False)
        )
    last = base + timedelta(milliseconds=i * 500)
    checked, bad = recount(db, set(sorted(touched)[:300]), get_finance_settings().windows, last)
    res = {
        "backend": url.split(":", 1)[0].split("+")[0],
        "stored": counts["transactions"],
        "buckets": counts["buckets"],
        "seed_s": None if a.reuse else round(seeded, 1),
        "requests": a.rounds * a.repeat,
        "repeats": a.repeat,
        "tx_per_s_median": round(statistics.median(rates), 1),
        "p50_ms_median": round(statistics.median(p50s), 2),
        "p99_ms_median": round(statistics.median(p99s), 2),
        "p99_ms_each": [round(x, 2) for x in p99s],
        "cpu_ms_per_request_median": round(statistics.median(cpus), 2),
        "load_avg_each": [round(x, 1) for x in loads],
        "cores": os.cpu_count(),
        "outcomes": outcomes,
        "aggregates_checked": checked,
        "aggregate_mismatches": bad,
    }
    print("RESULT " + json.dumps(res))
    db.engine.dispose()
    shutil.rmtree(var, ignore_errors=True)  # the SQLite file of a 1M run is a few GB
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
