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

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.orm import Session

from haven.core.db import UTCDateTime
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


_AT = UTCDateTime()
_PAIR_GET = text(
    "SELECT last_amount, rising, last_at FROM finance_pairs WHERE payer = :payer AND payee = :payee"
).columns(last_at=_AT)
_PAIR_NEW = text(
    "INSERT INTO finance_pairs (payer, payee, first_at, last_at, count, total, last_amount, rising)"
    " VALUES (:payer, :payee, :at, :at, 1, :amount, :amount, 1)"
).bindparams(bindparam("at", type_=_AT))
_PAIR_ADD = text(
    "UPDATE finance_pairs SET count = count + 1, total = total + :amount, last_amount = :amount,"
    " rising = :rising, last_at = :last_at WHERE payer = :payer AND payee = :payee"
).bindparams(bindparam("last_at", type_=_AT))
_CORRIDOR = text(
    "INSERT INTO finance_corridors (account_id, from_country, to_country, first_at, count)"
    " VALUES (:acc, :src, :dst, :at, 1) ON CONFLICT (account_id, from_country, to_country)"
    " DO UPDATE SET count = finance_corridors.count + 1 RETURNING count"
).bindparams(bindparam("at", type_=_AT))


@lru_cache(maxsize=16)
def _upsert_sql(n: int) -> TextClause:
    """One statement adding this payment to n buckets (every width, three scopes)."""
    values = ", ".join(f"(:s{i}, :a{i}, :c{i}, :w{i}, :b{i}, 1, :amount)" for i in range(n))
    # Only placeholders are formatted in (n is a count); every value is a bound parameter.
    return text(
        "INSERT INTO finance_buckets (scope, account_id, counterpart, width, bucket, count, total)"  # noqa: S608
        f" VALUES {values} ON CONFLICT (scope, account_id, counterpart, width, bucket)"
        " DO UPDATE SET count = finance_buckets.count + excluded.count,"
        " total = finance_buckets.total + excluded.total"
    )


@lru_cache(maxsize=16)
def _sums_sql(n: int) -> TextClause:
    """Count and total of n windows for the payer (`o`), the payee (`i`) and the pair (`p`):
    one primary-key range scan each, in one round trip."""
    parts = []
    for i in range(n):
        for scope, acc, cp in (("o", ":payer", "''"), ("i", ":payee", "''"), ("p", ":payer", ":payee")):
            parts.append(  # constants and placeholders only; values are bound
                f"SELECT '{scope}', {i}, COALESCE(SUM(count), 0), COALESCE(SUM(total), 0) FROM finance_buckets"  # noqa: S608
                f" WHERE scope = '{scope}' AND account_id = {acc} AND counterpart = {cp}"
                f" AND width = :w{i} AND bucket > :b{i}"
            )
    return text(" UNION ALL ".join(parts))


@lru_cache(maxsize=16)
def _distinct_sql(n: int) -> TextClause:
    """Distinct payees of the payer and distinct payers of the payee in n windows (pairs whose
    latest payment is in the window), in one round trip."""
    cols = ", ".join(f"COALESCE(SUM(CASE WHEN last_at > :l{i} THEN 1 ELSE 0 END), 0)" for i in range(n))
    sql = (  # placeholders only; values are bound
        f"SELECT 'payer', {cols} FROM finance_pairs WHERE payer = :payer AND last_at > :lo"  # noqa: S608
        f" UNION ALL SELECT 'payee', {cols} FROM finance_pairs WHERE payee = :payee AND last_at > :lo"
    )
    return text(sql).bindparams(*(bindparam(f"l{i}", type_=_AT) for i in range(n)), bindparam("lo", type_=_AT))


def windows_of(
    session: Session, payer: str, payee: str, at: datetime, windows: list[str]
) -> tuple[dict[str, WindowView], dict[str, WindowView], dict[str, WindowView]]:
    """The payer's, the payee's and the pair's aggregates over every window at time `at`."""
    t = _epoch(at)
    params: dict[str, object] = {"payer": payer, "payee": payee}
    for i, w in enumerate(windows):
        wd = width(w)
        params[f"w{i}"], params[f"b{i}"] = wd, t // wd - BUCKETS
        params[f"l{i}"] = at - timedelta(seconds=window_seconds(w))
    params["lo"] = at - timedelta(seconds=max(window_seconds(w) for w in windows))
    sums = {
        (scope, int(i)): (int(c), int(tot)) for scope, i, c, tot in session.execute(_sums_sql(len(windows)), params)
    }
    distinct = {who: [int(x) for x in rest] for who, *rest in session.execute(_distinct_sql(len(windows)), params)}

    def view(scope: str, who: str | None) -> dict[str, WindowView]:
        return {
            w: WindowView(
                count=sums[(scope, i)][0],
                total=Decimal(sums[(scope, i)][1]) / 100,
                counterparties=distinct[who][i] if who else 0,
            )
            for i, w in enumerate(windows)
        }

    return view("o", "payer"), view("i", "payee"), view("p", None)


def record(
    session: Session,
    *,
    payer: str,
    payee: str,
    amount_minor: int,
    occurred_at: datetime,
    payer_country: str | None,
    payee_country: str | None,
    windows: list[str],
) -> Features:
    """Count one payment in every aggregate and answer with the aggregates, this payment included.
    The caller holds the payer's lock."""
    t = _epoch(occurred_at)
    pair = session.execute(_PAIR_GET, {"payer": payer, "payee": payee}).first()
    new_payee = pair is None
    if pair is None:
        rising = 1
        session.execute(_PAIR_NEW, {"payer": payer, "payee": payee, "at": occurred_at, "amount": amount_minor})
    else:
        rising = int(pair[1]) + 1 if amount_minor > int(pair[0]) else 1
        session.execute(
            _PAIR_ADD,
            {
                "payer": payer,
                "payee": payee,
                "amount": amount_minor,
                "rising": rising,
                "last_at": max(pair[2], occurred_at),
            },
        )
    new_corridor = False
    if payer_country and payee_country:
        seen = session.execute(
            _CORRIDOR, {"acc": payer, "src": payer_country, "dst": payee_country, "at": occurred_at}
        ).scalar_one()
        new_corridor = int(seen) == 1
    params: dict[str, object] = {"amount": amount_minor}
    n = 0
    for wd in sorted({width(w) for w in windows}):
        for scope, acc, cp in (("o", payer, ""), ("i", payee, ""), ("p", payer, payee)):
            params.update({f"s{n}": scope, f"a{n}": acc, f"c{n}": cp, f"w{n}": wd, f"b{n}": t // wd})
            n += 1
    session.execute(_upsert_sql(n), params)
    payer_v, payee_v, pair_v = windows_of(session, payer, payee, occurred_at, windows)
    return Features(
        new_payee=new_payee, new_corridor=new_corridor, escalation=rising, payer=payer_v, payee=payee_v, pair=pair_v
    )
