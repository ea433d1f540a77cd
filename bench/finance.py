"""Benchmark of `POST /v1/transactions` with many stored transactions, this code against another
checkout in the same run.

Seeds STORED transactions (default 1,000,000) over 30 days between 50,000 accounts, with the
aggregate rows the request path writes, bulk inserted (COPY on PostgreSQL, executemany on
SQLite); code with the bucket prune job gets the table as the job leaves it, then the job is
run on it; code without gets every bucket. Seeded databases are kept in `--cache`
(var/bench-finance: SQLite files; `hb_*` databases on PostgreSQL), so a re-run only copies them.
Then REPEAT x ROUNDS requests through the application in-process (Starlette's TestClient, no
network; one in ten a gift card abroad), each repeat a fresh child process of one code, the two
codes interleaved; the last repeat of each recounts every window of 300 accounts it touched by
brute force from the stored transactions against the kept aggregates.

    .venv/bin/python bench/finance.py --before /work/main                       # SQLite
    .venv/bin/python bench/finance.py --before /work/main --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Ends with one line `RESULT {json}` (medians of the repeats per code, CPU ms per request, the
1-minute load average after each repeat); exit 1 on any aggregate mismatch.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
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
            raw.execute("PRAGMA cache_size = -262144")  # type: ignore[union-attr]  # 256 MB while seeding
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


def seed(db: Database, n: int, accounts: int, start: datetime, keep: dict[int, int] | None = None) -> dict[str, int]:
    """N stored transactions over 30 days with every aggregate row the request path would have
    written for them: buckets, pairs, corridors and the accounts (a few minors). Buckets are
    streamed out as they close (the payments are generated in time order), so memory stays at the
    open buckets and the pairs. With `keep` (width -> first bucket kept: code that prunes,
    `haven.finance.jobs.cutoffs`) the buckets its prune job would have deleted by the end are
    left out, as the table stands with the job running; without it (code that never prunes)
    every bucket is written."""
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
        lo = (keep or {}).get(wd, -1)
        closed.extend((*k, v[0], v[1]) for k, v in open_b.pop(wd, {}).items() if k[4] >= lo)

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


def _cache_key(stored: int, accounts: int, backend: str) -> str:
    """What a seeded database depends on: the schema (migration files) and whether the code prunes."""
    import haven

    versions = sorted(p.name for p in (Path(haven.__file__).parent / "migrations" / "versions").glob("*.py"))
    h = hashlib.sha256("\n".join(versions).encode()).hexdigest()[:10]
    return f"{backend}-{stored}-{accounts}-{h}"


def _prune_keep(at: datetime) -> dict[int, int] | None:
    """The buckets the code's prune job keeps at `at`, or None if this code never prunes."""
    try:
        from haven.finance.jobs import cutoffs
    except ImportError:
        return None
    from haven.finance.settings import get_finance_settings

    fs = get_finance_settings()
    return cutoffs(at, fs.windows, fs.prune_grace_hours * 3600)


def prepare(a: argparse.Namespace) -> dict[str, object]:
    """Child: a seeded database for this code (from the cache when there), returned as its URL."""
    from sqlalchemy import create_engine, text

    backend = "postgresql" if a.pg else "sqlite"
    key = _cache_key(a.stored, a.accounts, backend)
    cache = Path(a.cache)
    cache.mkdir(parents=True, exist_ok=True)
    meta_path = cache / f"{key}.json"
    info: dict[str, object] = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    if backend == "sqlite":
        cached_url = f"sqlite:///{cache / (key + '.db')}"
    else:
        cached_url = a.pg.rsplit("/", 1)[0] + f"/hb_{key.replace('-', '_')}"
    if not info:
        t = time.perf_counter()
        if backend == "postgresql":
            admin = create_engine(a.pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{cached_url.rsplit("/", 1)[1]}"'))
                c.execute(text(f'CREATE DATABASE "{cached_url.rsplit("/", 1)[1]}"'))
            admin.dispose()
        else:
            Path(cached_url.split("///", 1)[1]).unlink(missing_ok=True)
        upgrade(cached_url)
        db = Database(cached_url)
        at = datetime.now(UTC).replace(microsecond=0)
        keep = _prune_keep(at)
        counts = seed(db, a.stored, a.accounts, at - timedelta(days=30), keep)
        pruned = None
        if keep is not None:
            from haven.finance.jobs import prune

            t2 = time.perf_counter()
            res = prune(db, at=at)
            pruned = {"deleted": res.deleted, "s": round(time.perf_counter() - t2, 1)}
        db.engine.dispose()
        info = {"at": at.isoformat(), "counts": counts, "seed_s": round(time.perf_counter() - t, 1), "prune": pruned}
        meta_path.write_text(json.dumps(info))
    # A working copy: the timed requests add to it, the cached one stays as seeded.
    work = f"{key}-work"
    if backend == "sqlite":
        src, dst = Path(cached_url.split("///", 1)[1]), cache / f"{work}.db"
        for suffix in ("-wal", "-shm"):
            Path(str(dst) + suffix).unlink(missing_ok=True)
        shutil.copyfile(src, dst)
        url = f"sqlite:///{dst}"
    else:
        admin = create_engine(a.pg, isolation_level="AUTOCOMMIT")
        name = work.replace("-", "_")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "hb_{name}"'))
            c.execute(text(f'CREATE DATABASE "hb_{name}" TEMPLATE "{cached_url.rsplit("/", 1)[1]}"'))
        admin.dispose()
        url = a.pg.rsplit("/", 1)[0] + f"/hb_{name}"
    return {**info, "url": url}


def time_requests(a: argparse.Namespace, url: str, at: datetime, run: str, recount_after: bool) -> dict[str, object]:
    """Child: one repeat of ROUNDS requests through the app in-process, then (last repeat) the
    brute-force recount of the accounts it touched."""
    from starlette.testclient import TestClient

    from haven.app import create_app
    from haven.core.auth import create_integration
    from haven.finance.settings import get_finance_settings

    db = Database(url)
    var = Path(tempfile.mkdtemp(prefix="haven-bench-finance-"))
    with db.session() as s:
        _, key = create_integration(s, f"bench-{run}", ["intake"])
    settings = Settings(var_dir=var, database_url=url, log_format="console", log_level="WARNING", inline_worker=False)
    app = create_app(settings, db)
    rnd = random.Random(int(run) % 100_000)
    touched: set[str] = set()
    # The timed payments follow the seeded history (its last hour), as live traffic would.
    base = at - timedelta(minutes=60)
    offset = int(run) % 1000 * 10  # each repeat its own milliseconds: distinct, in the same hour
    lat: list[float] = []
    outcomes: dict[str, int] = {}
    profiler = None
    if a.profile:
        from pyinstrument import Profiler

        profiler = Profiler()
    with TestClient(app, base_url="http://testserver", headers={"Authorization": f"Bearer {key}"}) as client:
        for i in range(50):  # warm-up (imports, statement caches), not timed
            warm = {**_body(rnd, a.accounts, run, -i - 1, base), "payer": "warm", "payee": f"w{i}"}
            client.post("/v1/transactions", json=warm)
        if profiler:
            profiler.start()
        t_all, cpu_all = time.perf_counter(), time.process_time()
        for i in range(a.rounds):
            body = _body(rnd, a.accounts, run, i, base + timedelta(milliseconds=offset))
            touched |= {str(body["payer"]), str(body["payee"])}
            t = time.perf_counter()
            r = client.post("/v1/transactions", json=body)
            lat.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.text
            outcomes[r.json()["outcome"]] = outcomes.get(r.json()["outcome"], 0) + 1
        total = time.perf_counter() - t_all
        cpu = (time.process_time() - cpu_all) * 1000 / len(lat)
        load = os.getloadavg()[0]
        if profiler:
            profiler.stop()
    if profiler:
        Path(a.profile).write_text(
            profiler.output_html() if a.profile.endswith(".html") else profiler.output_text(show_all=False)
        )
    checked = bad = 0
    if recount_after:
        # At the seed's time: after every timed payment of every repeat (they fall in its last hour).
        checked, bad = recount(db, set(sorted(touched)[:300]), get_finance_settings().windows, at)
    db.engine.dispose()
    shutil.rmtree(var, ignore_errors=True)
    return {
        "p50": pct(lat, 50),
        "p99": pct(lat, 99),
        "rate": len(lat) / total,
        "cpu": cpu,
        "load": load,
        "outcomes": outcomes,
        "checked": checked,
        "bad": bad,
    }


def _body(rnd: random.Random, accounts: int, run: str, i: int, base: datetime) -> dict[str, object]:
    payer, payee = f"a{rnd.randrange(accounts)}", f"a{rnd.randrange(accounts)}"
    if payer == payee:
        payee = f"a{(int(payee[1:]) + 1) % accounts}"
    abroad = rnd.random() < 0.1  # one in ten: a gift card to a payee abroad
    return {
        "external_id": f"bench-{run}-{i}",
        "kind": "gift_card" if abroad else "p2p",
        "payer": payer,
        "payee": payee,
        "amount": f"{rnd.randrange(100, 20000) / 100:.2f}",
        "currency": "USD",
        "payer_country": "US",
        "payee_country": rnd.choice(["NG", "PH", "CI", "GB"]) if abroad else "US",
        "occurred_at": (base + timedelta(milliseconds=max(i, 0) * 500)).isoformat(),
    }


def _child(src: str, args: list[str]) -> dict[str, object]:
    """Run this script as a child on the code under `src` (PYTHONPATH); its last RESULT line."""
    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run([sys.executable, __file__, *args], env=env, stdout=subprocess.PIPE, text=True, check=False)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("CHILD ")]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"child on {src} failed ({out.returncode}): {out.stdout[-2000:]}")
    return dict(json.loads(lines[-1][6:]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stored", type=int, default=1_000_000)
    ap.add_argument("--accounts", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=2000, help="requests per repeat")
    ap.add_argument("--repeat", type=int, default=3, help="timed repeats; the RESULT gives their medians")
    ap.add_argument("--pg", default="", help="a PostgreSQL server URL (a database on it the bench may connect to)")
    ap.add_argument("--before", default="", help="a checkout to compare with (its src/), timed in the same run")
    ap.add_argument("--cache", default="var/bench-finance", help="seeded databases are kept here (SQLite files)")
    ap.add_argument("--profile", default="", help="write a pyinstrument profile of this code's first repeat here")
    ap.add_argument("--child", choices=["prepare", "time"], help=argparse.SUPPRESS)
    ap.add_argument("--url", default="", help=argparse.SUPPRESS)
    ap.add_argument("--at", default="", help=argparse.SUPPRESS)
    ap.add_argument("--run", default="", help=argparse.SUPPRESS)
    ap.add_argument("--recount", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child == "prepare":
        print("CHILD " + json.dumps(prepare(a)))
        return
    if a.child == "time":
        res = time_requests(a, a.url, datetime.fromisoformat(a.at), a.run, a.recount)
        print("CHILD " + json.dumps(res))
        return
    here = str(Path(__file__).resolve().parent.parent / "src")
    codes = [("after", here)] + ([("before", str(Path(a.before).resolve() / "src"))] if a.before else [])
    common = ["--stored", str(a.stored), "--accounts", str(a.accounts), "--rounds", str(a.rounds)]
    common += ["--cache", str(Path(a.cache).resolve())] + (["--pg", a.pg] if a.pg else [])
    prepared = {}
    for name, src in codes:
        prepared[name] = _child(src, [*common, "--child", "prepare"])
        print(f"{name}: prepared {prepared[name]}", file=sys.stderr)
    reps: dict[str, list[dict[str, object]]] = {name: [] for name, _ in codes}
    for k in range(a.repeat):
        for name, src in codes if k % 2 == 0 else codes[::-1]:  # interleaved, order alternating
            p = prepared[name]
            args = [*common, "--child", "time", "--url", str(p["url"]), "--at", str(p["at"])]
            args += ["--run", f"{int(time.time() * 1000)}"] + (["--recount"] if k == a.repeat - 1 else [])
            if a.profile and k == 0 and name == "after":
                args += ["--profile", a.profile]
            r = _child(src, args)
            reps[name].append(r)
            print(f"{name} repeat {k + 1}: p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, {r['rate']:.0f}/s, "
                  f"CPU {r['cpu']:.2f} ms/request, load {r['load']:.1f}", file=sys.stderr)  # fmt: skip
    result: dict[str, object] = {"backend": "postgresql" if a.pg else "sqlite", "cores": os.cpu_count()}
    bad = 0
    for name, _ in codes:
        rs, p = reps[name], prepared[name]
        counts = dict(p["counts"])  # type: ignore[call-overload]
        bad += sum(int(r["bad"]) for r in rs)  # type: ignore[call-overload]
        result[name] = {
            "stored": counts["transactions"],
            "buckets": counts["buckets"],
            "seed_s": p["seed_s"],
            "prune": p["prune"],
            "requests": a.rounds * a.repeat,
            "tx_per_s_median": round(statistics.median(float(r["rate"]) for r in rs), 1),  # type: ignore[arg-type]
            "p50_ms_median": round(statistics.median(float(r["p50"]) for r in rs), 2),  # type: ignore[arg-type]
            "p99_ms_median": round(statistics.median(float(r["p99"]) for r in rs), 2),  # type: ignore[arg-type]
            "p99_ms_each": [round(float(r["p99"]), 2) for r in rs],  # type: ignore[arg-type]
            "cpu_ms_per_request_median": round(statistics.median(float(r["cpu"]) for r in rs), 2),  # type: ignore[arg-type]
            "load_avg_each": [round(float(r["load"]), 1) for r in rs],  # type: ignore[arg-type]
            "aggregates_checked": sum(int(r["checked"]) for r in rs),  # type: ignore[call-overload]
            "aggregate_mismatches": sum(int(r["bad"]) for r in rs),  # type: ignore[call-overload]
        }
    print("RESULT " + json.dumps(result))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
