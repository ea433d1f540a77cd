"""Windowed aggregates under concurrent requests (SQLite and PostgreSQL): eight threads post
payments at once through a live server (many payers to one payee, payers paying each other,
every payment sent twice from different threads), then every kept aggregate is compared with a
brute-force recount from the stored transactions."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import select

from haven.core.db import Database
from haven.finance import aggregates
from haven.finance.models import Corridor, Pair, Transaction
from haven.finance.settings import get_finance_settings
from tests.conftest import LiveServer

THREADS = 8


def test_concurrent_payments_are_counted_exactly_once(server: LiveServer, api_key: str, db: Database) -> None:
    rnd = random.Random(3)
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    bodies = []
    for i in range(120):
        payer = f"cp-{rnd.randrange(30)}"
        payee = "hub" if i % 3 else f"cp-{(int(payer[3:]) + 1) % 30}"
        bodies.append(
            {
                "external_id": f"c-{i}",
                "kind": "p2p",
                "payer": payer,
                "payee": payee,
                "amount": f"{rnd.randrange(100, 9000) / 100:.2f}",
                "currency": "USD" if i % 4 else "EUR",
                "payer_country": "US",
                "payee_country": "GB" if i % 5 == 0 else "US",
                "occurred_at": (t0 + timedelta(seconds=rnd.randrange(1500))).isoformat(),
            }
        )
    work = bodies + bodies  # each payment twice, from different threads (retries racing)
    rnd.shuffle(work)
    answers: dict[str, list[dict[str, object]]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def run(part: list[dict[str, object]]) -> None:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60) as c:
            start.wait()
            for body in part:
                r = c.post("/v1/transactions", json=body)
                with lock:
                    if r.status_code != 200:
                        errors.append(f"{r.status_code} {r.text}")
                    else:
                        answers[str(body["external_id"])].append(r.json())

    threads = [threading.Thread(target=run, args=(work[i::THREADS],)) for i in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    # A retry gets the first answer, whichever thread came second.
    assert len(answers) == len(bodies) and all(a[0] == a[1] for a in answers.values())

    windows = get_finance_settings().windows
    at = t0 + timedelta(seconds=1500)
    t = int(at.timestamp())
    with db.session() as s:
        txs = list(s.scalars(select(Transaction)))
        assert sorted(x.external_id for x in txs) == sorted(str(b["external_id"]) for b in bodies)
        accounts = sorted({x.payer for x in txs} | {x.payee for x in txs})
        for acc in accounts:
            paying, paid, _ = aggregates.windows_of(s, acc, acc, at, windows)
            for w in windows:
                wd = aggregates.width(w)
                lo = datetime.fromtimestamp((t // wd - aggregates.BUCKETS + 1) * wd, UTC)
                lo_d = at - timedelta(seconds=aggregates.window_seconds(w))
                for kept, mine, other in ((paying[w], "payer", "payee"), (paid[w], "payee", "payer")):
                    rows = [x for x in txs if getattr(x, mine) == acc and lo <= x.occurred_at <= at]
                    distinct = {getattr(x, other) for x in txs if getattr(x, mine) == acc and lo_d < x.occurred_at}
                    expected = (len(rows), Decimal(sum(x.amount_ref_minor for x in rows)) / 100, len(distinct))
                    assert (kept.count, kept.total, kept.counterparties) == expected, (acc, w, mine)
        for p in s.scalars(select(Pair)):
            of_pair = [x for x in txs if (x.payer, x.payee) == (p.payer, p.payee)]
            assert (p.count, p.total) == (len(of_pair), sum(x.amount_ref_minor for x in of_pair))
            assert p.last_at == max(x.occurred_at for x in of_pair)
        assert len(s.scalars(select(Pair)).all()) == len({(x.payer, x.payee) for x in txs})
        for c in s.scalars(select(Corridor)):
            assert c.count == sum(
                1
                for x in txs
                if (x.payer, x.payer_country, x.payee_country) == (c.account_id, c.from_country, c.to_country)
            )
        hub = aggregates.windows_of(s, "nobody", "hub", at, windows)[1]["1h"]
        assert hub.count == sum(1 for b in bodies if b["payee"] == "hub") and hub.counterparties > 20
