"""Windowed aggregates, kept incrementally in the transaction that screens a payment.

Per account (paying `o`, paid `i`) and per pair (`p`), each window W (e.g. `1h`) is kept as
buckets of W/60 seconds: the window's count and total are the sum of the bucket holding this
payment and the 59 before it. Distinct counterparties in W are the pairs whose latest payment
falls in (t - W, t]. Writes are single-statement upserts (`count = count + 1`), so concurrent
requests never lose a count on SQLite or PostgreSQL; the payer's account row is locked first
(`SELECT ... FOR UPDATE`; SQLite serialises writers), so the pair's run of rising amounts and
the payer's new-payee answer are decided one payment at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from haven.finance.models import Bucket, Corridor, Pair
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


def _upsert_buckets(session: Session, rows: list[dict[str, object]]) -> None:
    dialect = session.get_bind().dialect.name
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Bucket).values(rows)
    session.execute(
        ins.on_conflict_do_update(
            index_elements=["scope", "account_id", "counterpart", "width", "bucket"],
            set_={"count": Bucket.count + ins.excluded.count, "total": Bucket.total + ins.excluded.total},
        )
    )


def _insert_new(session: Session, model: type, values: dict[str, object], keys: list[str]) -> bool:
    """Insert a row unless its key exists; True when this call inserted it."""
    dialect = session.get_bind().dialect.name
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model).values(**values)
    res = session.execute(ins.on_conflict_do_nothing(index_elements=keys))
    return bool(getattr(res, "rowcount", 0))


def _sums(
    session: Session, scope: str, account: str, counterpart: str, t: int, windows: list[str]
) -> dict[str, tuple[int, int]]:
    conds = []
    for w in windows:
        wd = width(w)
        conds.append(and_(Bucket.width == wd, Bucket.bucket > t // wd - BUCKETS))
    rows = session.execute(
        select(Bucket.width, func.sum(Bucket.count), func.sum(Bucket.total))
        .where(Bucket.scope == scope, Bucket.account_id == account, Bucket.counterpart == counterpart, or_(*conds))
        .group_by(Bucket.width)
    ).all()
    by_width = {int(r[0]): (int(r[1] or 0), int(r[2] or 0)) for r in rows}
    return {w: by_width.get(width(w), (0, 0)) for w in windows}


def _distinct(session: Session, column: str, account: str, t: datetime, windows: list[str]) -> dict[str, int]:
    me = Pair.payer if column == "payer" else Pair.payee
    oldest = t - timedelta(seconds=max(window_seconds(w) for w in windows))
    cols = [func.sum(case((Pair.last_at > t - timedelta(seconds=window_seconds(w)), 1), else_=0)) for w in windows]
    row = session.execute(select(*cols).where(me == account, Pair.last_at > oldest)).one()
    return {w: int(v or 0) for w, v in zip(windows, row, strict=True)}


def _view(sums: dict[str, tuple[int, int]], distinct: dict[str, int] | None = None) -> dict[str, WindowView]:
    return {
        w: WindowView(count=c, total=Decimal(total) / 100, counterparties=(distinct or {}).get(w, 0))
        for w, (c, total) in sums.items()
    }


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
    pair = session.get(Pair, (payer, payee))
    new_payee = pair is None
    if pair is None:
        pair = Pair(
            payer=payer,
            payee=payee,
            first_at=occurred_at,
            last_at=occurred_at,
            count=1,
            total=amount_minor,
            last_amount=amount_minor,
            rising=1,
        )
        session.add(pair)
    else:
        pair.rising = pair.rising + 1 if amount_minor > pair.last_amount else 1
        pair.last_amount = amount_minor
        pair.count += 1
        pair.total += amount_minor
        pair.last_at = max(pair.last_at, occurred_at)
    new_corridor = False
    if payer_country and payee_country:
        new_corridor = _insert_new(
            session,
            Corridor,
            {
                "account_id": payer,
                "from_country": payer_country,
                "to_country": payee_country,
                "first_at": occurred_at,
                "count": 1,
            },
            ["account_id", "from_country", "to_country"],
        )
        if not new_corridor:
            session.execute(
                update(Corridor)
                .where(
                    Corridor.account_id == payer,
                    Corridor.from_country == payer_country,
                    Corridor.to_country == payee_country,
                )
                .values(count=Corridor.count + 1)
            )
    rows: list[dict[str, object]] = []
    for wd in sorted({width(w) for w in windows}):
        b = t // wd
        for scope, acc, cp in (("o", payer, ""), ("i", payee, ""), ("p", payer, payee)):
            rows.append(
                {
                    "scope": scope,
                    "account_id": acc,
                    "counterpart": cp,
                    "width": wd,
                    "bucket": b,
                    "count": 1,
                    "total": amount_minor,
                }
            )
    _upsert_buckets(session, rows)
    session.flush()
    return Features(
        new_payee=new_payee,
        new_corridor=new_corridor,
        escalation=pair.rising,
        payer=_view(
            _sums(session, "o", payer, "", t, windows), _distinct(session, "payer", payer, occurred_at, windows)
        ),
        payee=_view(
            _sums(session, "i", payee, "", t, windows), _distinct(session, "payee", payee, occurred_at, windows)
        ),
        pair=_view(_sums(session, "p", payer, payee, t, windows)),
    )
