"""Windowed aggregates, kept incrementally in the transaction that screens a payment.

Per account (paying `o`, paid `i`) and per pair (`p`), each window W (e.g. `1h`) is kept as
buckets of W/60 seconds: the window's count and total are the sum of the bucket holding this
payment and the 59 before it. Distinct counterparties in W are the pairs whose latest payment
falls in (t - W, t]. Writes are single-statement upserts (`count = count + 1`), so concurrent
requests never lose a count on SQLite or PostgreSQL; the payer's account row is locked first
(`SELECT ... FOR UPDATE`; SQLite serialises writers), so the pair's run of rising amounts and
the payer's new-payee answer are decided one payment at a time.

This is the hot path of `POST /v1/transactions` (a hash lookup's budget), so it is a handful of
prepared statements and no ORM objects: one upsert for every bucket of every window, one read
of every window of the payer, the payee and the pair (a UNION ALL of primary-key range scans),
one read of the distinct counterparties, and the pair and corridor rows. The SQL is the same on
SQLite (3.35+) and PostgreSQL (`ON CONFLICT ... DO UPDATE`, `RETURNING`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from sqlalchemy.orm import Session

from haven.finance.fastsql import Raw, Sql
from haven.policy import WindowView

BUCKETS = 60
_WINDOW = re.compile(r"^([1-9][0-9]*)([mhd])$")
_UNIT = {"m": 60, "h": 3600, "d": 86400}


def window_seconds(name: str) -> int:
    m = _WINDOW.match(name)
    if not m:
        raise ValueError(f"a window is a number and m, h or d (e.g. 1h, 30d), not '{name}'")
    return int(m.group(1)) * _UNIT[m.group(2)]


def width(name: str) -> int:
    """The bucket width of a window, in seconds."""
    return max(1, window_seconds(name) // BUCKETS)


@dataclass
class Features:
    new_payee: bool
    new_corridor: bool
    escalation: int
    payer: dict[str, WindowView] = field(default_factory=dict)
    payee: dict[str, WindowView] = field(default_factory=dict)
    pair: dict[str, WindowView] = field(default_factory=dict)


def _epoch(t: datetime) -> int:
    return int(t.timestamp())


#: The pair's row, counted in one statement: `count` 1 back means this payee is new to the payer,
#: and the run of rising amounts is decided against the previous amount under the row's lock
#: (every SET reads the row as it was). Same SQL on SQLite (3.35+) and PostgreSQL.
_PAIR = Sql(
    "INSERT INTO finance_pairs (payer, payee, first_at, last_at, count, total, last_amount, rising)"
    " VALUES (:payer, :payee, :at, :at, 1, :amount, :amount, 1)"
    " ON CONFLICT (payer, payee) DO UPDATE SET count = finance_pairs.count + 1,"
    " total = finance_pairs.total + excluded.total, last_amount = excluded.last_amount,"
    " rising = CASE WHEN excluded.last_amount > finance_pairs.last_amount THEN finance_pairs.rising + 1 ELSE 1 END,"
    " last_at = CASE WHEN excluded.last_at > finance_pairs.last_at THEN excluded.last_at ELSE finance_pairs.last_at END"
    " RETURNING count, rising"
)
_CORRIDOR = Sql(
    "INSERT INTO finance_corridors (account_id, from_country, to_country, first_at, count)"
    " VALUES (:acc, :src, :dst, :at, 1) ON CONFLICT (account_id, from_country, to_country)"
    " DO UPDATE SET count = finance_corridors.count + 1 RETURNING count"
)


@lru_cache(maxsize=16)
def _upsert_sql(n: int) -> Sql:
    """One statement adding this payment to n buckets (every width, three scopes)."""
    values = ", ".join(f"(:s{i}, :a{i}, :c{i}, :w{i}, :b{i}, 1, :amount)" for i in range(n))
    # Only placeholders are formatted in (n is a count); every value is a bound parameter.
    return Sql(
        "INSERT INTO finance_buckets (scope, account_id, counterpart, width, bucket, count, total)"  # noqa: S608
        f" VALUES {values} ON CONFLICT (scope, account_id, counterpart, width, bucket)"
        " DO UPDATE SET count = finance_buckets.count + excluded.count,"
        " total = finance_buckets.total + excluded.total"
    )


@lru_cache(maxsize=16)
def _read_sql(n: int, extra: str = "") -> Sql:
    """Every window of the payer (`o`), the payee (`i`) and the pair (`p`), and the distinct
    payees of the payer (`dpayer`) and payers of the payee (`dpayee`), in one round trip: rows of
    (tag, window index, s1, s2, s3, n1, n2), each part a primary-key or index range scan. `extra`
    is a constant tail of more parts of the same shape (the service's relations), so the request
    reads everything it decides on in one statement."""
    parts = []
    for i in range(n):
        for scope, acc, cp in (("o", ":payer", "''"), ("i", ":payee", "''"), ("p", ":payer", ":payee")):
            parts.append(  # constants and placeholders only; values are bound
                f"SELECT '{scope}', {i}, '', '', '', COALESCE(SUM(count), 0), COALESCE(SUM(total), 0)"  # noqa: S608
                f" FROM finance_buckets WHERE scope = '{scope}' AND account_id = {acc} AND counterpart = {cp}"
                f" AND width = :w{i} AND bucket > :b{i}"
            )
        for tag, col, acc in (("dpayer", "payer", ":payer"), ("dpayee", "payee", ":payee")):
            parts.append(  # pairs whose latest payment is in the window (an index range count)
                f"SELECT '{tag}', {i}, '', '', '', COUNT(*), 0 FROM finance_pairs"  # noqa: S608
                f" WHERE {col} = {acc} AND last_at > :l{i}"
            )
    return Sql(" UNION ALL ".join(parts) + (f" UNION ALL {extra}" if extra else ""))


def _read_params(raw: Raw, payer: str, payee: str, at: datetime, windows: list[str]) -> dict[str, object]:
    t = _epoch(at)
    params: dict[str, object] = {"payer": payer, "payee": payee}
    for i, w in enumerate(windows):
        wd = width(w)
        params[f"w{i}"], params[f"b{i}"] = wd, t // wd - BUCKETS
        params[f"l{i}"] = raw.ts(at - timedelta(seconds=window_seconds(w)))
    return params


def read(
    session: Session | Raw,
    payer: str,
    payee: str,
    at: datetime,
    windows: list[str],
    extra: str = "",
    extra_params: dict[str, object] | None = None,
) -> tuple[tuple[dict[str, WindowView], dict[str, WindowView], dict[str, WindowView]], list[tuple[str, ...]]]:
    """The payer's, the payee's and the pair's aggregates over every window at time `at`, and the
    rows of `extra` (bound with `extra_params` too) as (tag, s1, s2, s3)."""
    raw = session if isinstance(session, Raw) else Raw(session)
    sums: dict[tuple[str, int], tuple[int, int]] = {}
    other: list[tuple[str, ...]] = []
    params = _read_params(raw, payer, payee, at, windows) | (extra_params or {})
    for tag, i, s1, s2, s3, n1, n2 in raw.rows(_read_sql(len(windows), extra), params):
        if tag in _NUMERIC:
            sums[(tag, int(i))] = (int(n1), int(n2))
        else:
            other.append((tag, s1, s2, s3))

    def view(scope: str, who: str | None) -> dict[str, WindowView]:
        return {
            w: WindowView(
                count=sums[(scope, i)][0],
                total=Decimal(sums[(scope, i)][1]) / 100,
                counterparties=sums[(who, i)][0] if who else 0,
            )
            for i, w in enumerate(windows)
        }

    return (view("o", "dpayer"), view("i", "dpayee"), view("p", None)), other


_NUMERIC = frozenset({"o", "i", "p", "dpayer", "dpayee"})


def windows_of(
    session: Session, payer: str, payee: str, at: datetime, windows: list[str]
) -> tuple[dict[str, WindowView], dict[str, WindowView], dict[str, WindowView]]:
    """The payer's, the payee's and the pair's aggregates over every window at time `at`."""
    return read(session, payer, payee, at, windows)[0]


def record(
    raw: Raw,
    *,
    payer: str,
    payee: str,
    amount_minor: int,
    occurred_at: datetime,
    payer_country: str | None,
    payee_country: str | None,
    windows: list[str],
    extra: str = "",
    extra_params: dict[str, object] | None = None,
) -> tuple[Features, list[tuple[str, ...]]]:
    """Count one payment in every aggregate and answer with the aggregates, this payment included
    (and the rows of `extra`, read in the same statement).

    Three writes and one read. Row locks are taken in one order by every request (the pair, then
    the payer's corridor, then the buckets by width, the payer's before the payee's and the
    pair's), so concurrent payments on PostgreSQL never deadlock; the payer's `o` bucket rows
    are locked by every payment of that payer, which makes them the payer's lock: a second
    payment of the same account waits for the first to commit and then reads what it wrote
    (restrictions included). SQLite serialises writers (BEGIN IMMEDIATE)."""
    t = _epoch(occurred_at)
    at = raw.ts(occurred_at)
    count, rising = raw.one(_PAIR, {"payer": payer, "payee": payee, "at": at, "amount": amount_minor})
    new_corridor = False
    if payer_country and payee_country:
        (seen,) = raw.one(_CORRIDOR, {"acc": payer, "src": payer_country, "dst": payee_country, "at": at})
        new_corridor = int(seen) == 1
    params: dict[str, object] = {"amount": amount_minor}
    n = 0
    for wd in sorted({width(w) for w in windows}):
        for scope, acc, cp in (("o", payer, ""), ("i", payee, ""), ("p", payer, payee)):
            params.update({f"s{n}": scope, f"a{n}": acc, f"c{n}": cp, f"w{n}": wd, f"b{n}": t // wd})
            n += 1
    raw.run(_upsert_sql(n), params)
    (payer_v, payee_v, pair_v), rows = read(raw, payer, payee, occurred_at, windows, extra, extra_params)
    feats = Features(
        new_payee=int(count) == 1,
        new_corridor=new_corridor,
        escalation=int(rising),
        payer=payer_v,
        payee=payee_v,
        pair=pair_v,
    )
    return feats, rows
