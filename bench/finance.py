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
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from haven.core.db import Database
from haven.core.migrate import upgrade
from haven.core.settings import Settings


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def seed(db: Database, n: int, accounts: int, start: datetime) -> None:
    from haven.finance.aggregates import width
    from haven.finance.backtest import MemoryAggregates
    from haven.finance.models import Bucket, Pair, Transaction
    from haven.finance.settings import get_finance_settings

    windows = get_finance_settings().windows
    agg = MemoryAggregates(windows)
    rnd = random.Random(7)
    pairs: dict[tuple[str, str], dict[str, object]] = {}
    step = (30 * 86400 - 3600) / n
    batch: list[dict[str, object]] = []
    with db.session() as s:
        for i in range(n):
            payer, payee = f"a{rnd.randrange(accounts)}", f"a{rnd.randrange(accounts)}"
            if payer == payee:
                continue
            at = start + timedelta(seconds=i * step)
            cents = rnd.randrange(100, 20000)
            agg.add(payer, payee, cents, at, "US", "US")
            p = pairs.get((payer, payee))
            if p is None:
                pairs[(payer, payee)] = {
                    "payer": payer,
                    "payee": payee,
                    "first_at": at,
                    "last_at": at,
                    "count": 1,
                    "total": cents,
                    "last_amount": cents,
                    "rising": 1,
                }
            else:
                p["rising"] = int(p["rising"]) + 1 if cents > int(p["last_amount"]) else 1  # type: ignore[call-overload]
                p.update(last_at=at, last_amount=cents, count=int(p["count"]) + 1, total=int(p["total"]) + cents)  # type: ignore[call-overload]
            batch.append(
                {
                    "id": f"{i:026d}",
                    "integration_id": "bench",
                    "external_id": f"seed-{i}",
                    "kind": "p2p",
                    "payer": payer,
                    "payee": payee,
                    "amount": f"{cents / 100:.2f}",
                    "currency": "USD",
                    "amount_ref_minor": cents,
                    "payer_country": "US",
                    "payee_country": "US",
                    "occurred_at": at,
                    "received_at": at,
                    "outcome": "approve",
                    "status": "approved",
                    "rule": "finance.approve",
                    "ruleset_version": "seed",
                    "indicators": [],
                    "shadow": [],
                    "fingerprint": "0" * 64,
                    "response": {},
                }
            )
            if len(batch) >= 20000:
                s.execute(insert(Transaction), batch)
                batch = []
        if batch:
            s.execute(insert(Transaction), batch)
        rows = [
            {
                "scope": k[0],
                "account_id": k[1],
                "counterpart": k[2],
                "width": k[3],
                "bucket": k[4],
                "count": v[0],
                "total": v[1],
            }
            for k, v in agg.buckets.items()
        ]
        for i in range(0, len(rows), 20000):
            s.execute(insert(Bucket), rows[i : i + 20000])
        prs = list(pairs.values())
        for i in range(0, len(prs), 20000):
            s.execute(insert(Pair), prs[i : i + 20000])
        assert width(windows[0]) > 0


def recount(db: Database, accounts: set[str], windows: list[str], at: datetime) -> tuple[int, int]:
    """Brute force from finance_transactions: count, total and distinct counterparties per window,
    compared with what the kept aggregates answer. Returns (checked, mismatches)."""
    from haven.finance import aggregates as agg
    from haven.finance.models import Transaction

    checked = bad = 0
    t = int(at.timestamp())
    with db.session() as s:
        for acc in sorted(accounts):
            for w in windows:
                wd = agg.width(w)
                lo = datetime.fromtimestamp((t // wd - agg.BUCKETS + 1) * wd, UTC)
                for col, scope in ((Transaction.payer, "o"), (Transaction.payee, "i")):
                    c, tot = s.execute(
                        select(func.count(), func.coalesce(func.sum(Transaction.amount_ref_minor), 0)).where(
                            col == acc, Transaction.occurred_at >= lo, Transaction.occurred_at <= at
                        )
                    ).one()
                    kept = agg._sums(s, scope, acc, "", t, [w])[w]
                    other = Transaction.payee if scope == "o" else Transaction.payer
                    lo_d = at - timedelta(seconds=agg.window_seconds(w))
                    distinct = s.scalar(
                        select(func.count(func.distinct(other))).where(
                            col == acc, Transaction.occurred_at > lo_d, Transaction.occurred_at <= at
                        )
                    )
                    kept_d = agg._distinct(s, "payer" if scope == "o" else "payee", acc, at, [w])[w]
                    checked += 1
                    if (int(c), int(tot), int(distinct or 0)) != (kept[0], kept[1], kept_d):
                        bad += 1
    return checked, bad


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stored", type=int, default=1_000_000)
    ap.add_argument("--accounts", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--url", default="")
    a = ap.parse_args()
    from starlette.testclient import TestClient

    from haven.app import create_app
    from haven.core.auth import create_integration
    from haven.finance.settings import get_finance_settings

    var = Path(tempfile.mkdtemp(prefix="haven-bench-finance-"))
    url = a.url or f"sqlite:///{var}/bench.db"
    upgrade(url)
    db = Database(url)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=30)
    t = time.perf_counter()
    seed(db, a.stored, a.accounts, start)
    seeded = time.perf_counter() - t
    with db.session() as s:
        _, key = create_integration(s, "bench", ["intake"])
    settings = Settings(var_dir=var, database_url=url, log_format="console", log_level="WARNING", inline_worker=False)
    app = create_app(settings, db)
    rnd = random.Random(11)
    lat: list[float] = []
    touched: set[str] = set()
    base = now - timedelta(minutes=30)
    with TestClient(app, base_url="http://testserver", headers={"Authorization": f"Bearer {key}"}) as client:
        t_all = time.perf_counter()
        for i in range(a.rounds):
            payer, payee = f"a{rnd.randrange(a.accounts)}", f"a{rnd.randrange(a.accounts)}"
            if payer == payee:
                continue
            touched |= {payer, payee}
            body = {
                "external_id": f"bench-{i}",
                "kind": "p2p",
                "payer": payer,
                "payee": payee,
                "amount": f"{rnd.randrange(100, 20000) / 100:.2f}",
                "currency": "USD",
                "payer_country": "US",
                "payee_country": "US",
                "occurred_at": (base + timedelta(milliseconds=i * 500)).isoformat(),
            }
            t = time.perf_counter()
            r = client.post("/v1/transactions", json=body)
            lat.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.text
        total = time.perf_counter() - t_all
    last = base + timedelta(milliseconds=a.rounds * 500)
    checked, bad = recount(db, set(sorted(touched)[:300]), get_finance_settings().windows, last)
    res = {
        "backend": url.split(":", 1)[0],
        "stored": a.stored,
        "seed_s": round(seeded, 1),
        "rounds": len(lat),
        "tx_per_s": round(len(lat) / total, 1),
        "p50_ms": round(pct(lat, 50), 2),
        "p99_ms": round(pct(lat, 99), 2),
        "aggregates_checked": checked,
        "aggregate_mismatches": bad,
    }
    print("RESULT " + json.dumps(res))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
