"""Retroaction: entries that arrive (from an exchange, a file import or a person) are matched
against the stored hashes of past uploads (`content_items` keeps hashes, never the bytes of
allowed media) received within `HAVEN_EXCHANGE_RETRO_DAYS`, and every hit opens a review task
with the entry's provenance.

The pure part, `retro_match`, takes the new entries and an iterator of upload hashes: exact types
by dictionary, PDQ by building the exact multi-index `PDQIndex` over the new entries and
querying it with the uploads in batches (one pass over the uploads however many entries came).
The I/O part walks the banks' change counter with a cursor of its own (`counters` row
`exchange_retro`), claimed by compare-and-set so two workers never process one range twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from haven.banks.index import PDQIndex, hex_to_words
from haven.banks.models import Bank, BankEntry, Match
from haven.core.clock import now
from haven.core.ledger import subscribe
from haven.core.models import Counter, Event
from haven.core.settings import get_settings
from haven.exchange import metrics
from haven.exchange.models import Exchange, ExchangeEntry
from haven.review.service import create_task
from haven.screening.models import ContentItem

CURSOR = "exchange_retro"
EXACT = ("md5", "sha1", "sha256")
BATCH = 20_000


@dataclass(frozen=True)
class NewEntry:
    entry_id: str
    signal_type: str
    value: str
    threshold: int


@dataclass(frozen=True)
class Upload:
    content_id: str
    md5: str | None
    sha1: str | None
    sha256: str | None
    pdq: str | None


@dataclass(frozen=True)
class RetroHit:
    content_id: str
    entry_id: str
    signal_type: str
    distance: int


def retro_match(entries: list[NewEntry], uploads: Iterable[Upload], *, batch: int = BATCH) -> Iterator[RetroHit]:
    exact: dict[tuple[str, str], list[str]] = {}
    pdq: list[NewEntry] = []
    for e in entries:
        if e.signal_type in EXACT:
            exact.setdefault((e.signal_type, e.value), []).append(e.entry_id)
        elif e.signal_type == "pdq":
            pdq.append(e)
    index: PDQIndex | None = None
    radius = 0
    if pdq:
        index = PDQIndex(capacity=len(pdq))
        index.add(hex_to_words([e.value for e in pdq]))
        index.merge()
        radius = max(e.threshold for e in pdq)
    buf: list[Upload] = []

    def flush() -> Iterator[RetroHit]:
        if index is None or not buf:
            return
        queries = hex_to_words([u.pdq or "" for u in buf])
        for u, (slots, dists) in zip(buf, index.search_many(queries, radius), strict=True):
            for slot, dist in zip(slots.tolist(), dists.tolist(), strict=True):
                e = pdq[slot]
                if dist <= e.threshold:
                    yield RetroHit(u.content_id, e.entry_id, "pdq", int(dist))

    for u in uploads:
        if exact:
            for st in EXACT:
                v = getattr(u, st)
                if v:
                    for entry_id in exact.get((st, v), ()):
                        yield RetroHit(u.content_id, entry_id, st, 0)
        if index is not None and u.pdq and len(u.pdq) == 64:
            buf.append(u)
            if len(buf) >= batch:
                yield from flush()
                buf.clear()
    yield from flush()


def _uploads(session: Session, days: int) -> Iterator[Upload]:
    since = now() - timedelta(days=days)
    q = (
        select(ContentItem.id, ContentItem.md5, ContentItem.sha1, ContentItem.sha256, ContentItem.pdq)
        .where(ContentItem.received_at >= since)
        .execution_options(yield_per=10_000)
    )
    for row in session.execute(q):
        yield Upload(*row)


def _claim_range(session: Session) -> tuple[int, int] | None:
    """(after, upto] of the banks' change counter not yet retro-matched, claimed by CAS."""
    current = int(session.scalar(select(Counter.value).where(Counter.name == "banks")) or 0)
    done = session.scalar(select(Counter.value).where(Counter.name == CURSOR))
    if done is None:
        session.add(Counter(name=CURSOR, value=0))
        session.flush()
        done = 0
    if current <= done:
        return None
    res = session.execute(update(Counter).where(Counter.name == CURSOR, Counter.value == done).values(value=current))
    if res.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return int(done), current


def _provenance(session: Session, entry_ids: list[str]) -> dict[str, dict[str, object]]:
    rows = session.execute(
        select(ExchangeEntry, Exchange.name, Exchange.kind)
        .join(Exchange, Exchange.id == ExchangeEntry.exchange_id)
        .where(ExchangeEntry.bank_entry_id.in_(entry_ids))
    ).all()
    out: dict[str, dict[str, object]] = {}
    for xe, name, kind in rows:
        out[str(xe.bank_entry_id)] = {
            "exchange": name,
            "exchange_kind": kind,
            "list": xe.list_name,
            "upstream_id": xe.upstream_id,
            "upstream_type": xe.upstream_type,
            "contributor": xe.contributor,
            "labels": list(xe.labels or []),
            "fetched_at": xe.fetched_at.isoformat(),
        }
    return out


def run_retro(session: Session, *, days: int | None = None) -> int:
    """Retro-match the entries changed since the cursor; returns the tasks opened."""
    days = get_settings().exchange_retro_days if days is None else days
    claimed = _claim_range(session)
    if claimed is None or days <= 0:
        return 0
    after, upto = claimed
    rows = session.execute(
        select(BankEntry, Bank)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(
            BankEntry.change_seq > after,
            BankEntry.change_seq <= upto,
            BankEntry.enabled.is_(True),
            Bank.enabled.is_(True),
            Bank.kind != "allowlist",
        )
    ).all()
    if not rows:
        return 0
    entries = [NewEntry(e.id, e.signal_type, e.value, b.pdq_threshold) for e, b in rows]
    meta = {e.id: (e, b) for e, b in rows}
    hits = list(retro_match(entries, _uploads(session, days)))
    if not hits:
        return 0
    roots = sorted({meta[h.entry_id][0].variant_of or h.entry_id for h in hits})
    prov = _provenance(session, roots)
    already = set(
        session.execute(
            select(Match.content_id, Match.entry_id).where(Match.entry_id.in_(sorted({h.entry_id for h in hits})))
        ).tuples()
    )
    opened = 0
    for h in hits:
        if (h.content_id, h.entry_id) in already:
            continue
        entry, bank = meta[h.entry_id]
        root = entry.variant_of or entry.id
        item = session.get(ContentItem, h.content_id)
        if item is None:
            continue
        session.add(
            Match(
                content_id=h.content_id,
                integration_id=item.integration_id,
                source="retro",
                bank_id=bank.id,
                entry_id=h.entry_id,
                signal_type=h.signal_type,
                distance=h.distance,
                classification=entry.classification,
                status="quarantined" if entry.quarantined_at else "active",
            )
        )
        provenance = prov.get(root, {"source": "bank", "bank": bank.name, "added_by": entry.added_by})
        task = create_task(
            session,
            queue="known_material",
            subject_type="content",
            subject_id=h.content_id,
            content_ids=[h.content_id],
            uploader=item.uploader,
            severity=3 if bank.kind in ("known_csam", "known_exploitation") else 2,
            reason=(
                f"Retroactive match: a past upload ({item.received_at:%Y-%m-%d}) matches a new entry of bank "
                f"'{bank.name}' ({h.signal_type}, distance {h.distance})"
                + (f" from {provenance.get('exchange')}" if "exchange" in provenance else "")
            ),
            details={
                "verdict": "retro",
                "rule": "retroaction",
                "bank": bank.name,
                "bank_kind": bank.kind,
                "entry_id": root,
                "matched_entry_id": h.entry_id,
                "signal_type": h.signal_type,
                "distance": h.distance,
                "provenance": provenance,
            },
            source_key=f"retro:{root}:{h.content_id}",
        )
        if task is not None:
            opened += 1
            record_retro_event(session, h, bank.id, provenance)
    metrics.RETRO_MATCHES.inc(opened)
    return opened


def record_retro_event(session: Session, hit: RetroHit, bank_id: str, provenance: dict[str, object]) -> None:
    from haven.core.ledger import record_event

    record_event(
        session,
        "exchange.retro_matched",
        subject_type="content",
        subject_id=hit.content_id,
        actor="system:retroaction",
        data={
            "entry_id": hit.entry_id,
            "bank_id": bank_id,
            "signal_type": hit.signal_type,
            "distance": hit.distance,
            "exchange": str(provenance.get("exchange") or "") or None,
        },
    )


@subscribe("bank.entries_added", "bank.entry_enabled", name="exchange-retroaction")
def on_entries_added(session: Session, event: Event) -> None:
    run_retro(session)
