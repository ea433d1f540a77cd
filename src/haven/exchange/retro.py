"""Retroaction: entries that arrive (from an exchange, a file import or a person) are matched
against the stored hashes of past uploads (`content_items` keeps hashes, never the bytes of
allowed media) received within `HAVEN_EXCHANGE_RETRO_DAYS`, and every hit opens a review task
with the entry's provenance.

The pure part, `RetroIndex`, is the match index built over the new entries (exact types by
dictionary, PDQ in the banks' multi-index `PDQIndex`) and queried with the stored upload hashes
a batch of columns at a time, vectorised (`PDQIndex.search_flat`): no Python work per upload
beyond the batch's columns. In the database, MD5 and SHA-256 are looked up through the indexed
`content_items` columns instead of being scanned; only SHA-1 and PDQ need the pass over uploads.
The I/O part walks the banks' change counter with a cursor of its own (`counters` row
`exchange_retro`), claimed by compare-and-set so two workers never process one range twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
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
class UploadBatch:
    """Stored hashes of a batch of past uploads, as columns (one list per hash type, aligned
    with `content_ids`; None where the upload has no such hash)."""

    content_ids: list[str]
    md5: list[str | None]
    sha1: list[str | None]
    sha256: list[str | None]
    pdq: list[str | None]


@dataclass(frozen=True)
class RetroHit:
    content_id: str
    entry_id: str
    signal_type: str
    distance: int


class RetroIndex:
    """The match index over the *new* entries (exact types by dictionary, PDQ in the banks'
    multi-index `PDQIndex` with each slot's threshold in an array), queried with past uploads'
    hashes a batch at a time: PDQ through `PDQIndex.search_flat` (one vectorised search per batch,
    thresholds applied as an array operation; Python objects only for hits), exact types by set
    lookup over the batch's column."""

    def __init__(self, entries: list[NewEntry]) -> None:
        self.exact: dict[str, dict[str, list[str]]] = {t: {} for t in EXACT}
        pdq = [e for e in entries if e.signal_type == "pdq"]
        for e in entries:
            if e.signal_type in EXACT:
                self.exact[e.signal_type].setdefault(e.value, []).append(e.entry_id)
        self.pdq_ids = [e.entry_id for e in pdq]
        self.index: PDQIndex | None = None
        self.radius = 0
        if pdq:
            self.index = PDQIndex(capacity=len(pdq))
            self.index.add(hex_to_words([e.value for e in pdq]))
            self.index.merge()
            self.thresholds = np.array([e.threshold for e in pdq], dtype=np.int64)
            self.radius = int(self.thresholds.max())

    def exact_types(self) -> list[str]:
        return [t for t in EXACT if self.exact[t]]

    def match_exact(self, signal_type: str, content_ids: list[str], values: list[str | None]) -> Iterator[RetroHit]:
        table = self.exact[signal_type]
        if not table:
            return
        for cid, v in zip(content_ids, values, strict=True):
            found = table.get(v) if v else None
            if found:
                for entry_id in found:
                    yield RetroHit(cid, entry_id, signal_type, 0)

    def match_pdq(self, content_ids: list[str], values: list[str | None]) -> Iterator[RetroHit]:
        if self.index is None:
            return
        keep = [i for i, v in enumerate(values) if v is not None and len(v) == 64]
        if not keep:
            return
        words = hex_to_words([values[i] for i in keep])  # type: ignore[misc]
        owners, slots, dists = self.index.search_flat(words, self.radius)
        ok = dists <= self.thresholds[slots]
        for o, slot, d in zip(owners[ok].tolist(), slots[ok].tolist(), dists[ok].tolist(), strict=True):
            yield RetroHit(content_ids[keep[o]], self.pdq_ids[slot], "pdq", int(d))

    def match_batch(self, batch: UploadBatch, *, exact: bool = True) -> Iterator[RetroHit]:
        if exact:
            for st in self.exact_types():
                yield from self.match_exact(st, batch.content_ids, getattr(batch, st))
        yield from self.match_pdq(batch.content_ids, batch.pdq)


def retro_match(entries: list[NewEntry], batches: Iterable[UploadBatch]) -> Iterator[RetroHit]:
    """Every (past upload, new entry) pair that matches, one pass over the upload batches."""
    index = RetroIndex(entries)
    for batch in batches:
        yield from index.match_batch(batch)


def _since(days: int) -> datetime:
    return now() - timedelta(days=days)


def _upload_batches(session: Session, days: int, *, only_pdq: bool, batch: int = BATCH) -> Iterator[UploadBatch]:
    """The window's uploads, a batch of columns at a time (only those with a PDQ when the exact
    types are looked up by index instead)."""
    q = select(ContentItem.id, ContentItem.md5, ContentItem.sha1, ContentItem.sha256, ContentItem.pdq).where(
        ContentItem.received_at >= _since(days)
    )
    if only_pdq:
        q = q.where(ContentItem.pdq.is_not(None))
    for part in session.execute(q.execution_options(yield_per=batch)).partitions(batch):
        ids, md5, sha1, sha256, pdq = (list(c) for c in zip(*part, strict=True))
        yield UploadBatch(ids, md5, sha1, sha256, pdq)


#: Exact types whose `content_items` column is indexed: looked up by value, never scanned.
INDEXED_EXACT = {"md5": ContentItem.md5, "sha256": ContentItem.sha256}
LOOKUP_CHUNK = 5_000


def _indexed_exact_hits(session: Session, index: RetroIndex, days: int) -> Iterator[RetroHit]:
    since = _since(days)
    for st, column in INDEXED_EXACT.items():
        values = sorted(index.exact[st])
        for start in range(0, len(values), LOOKUP_CHUNK):
            rows = session.execute(
                select(ContentItem.id, column).where(
                    column.in_(values[start : start + LOOKUP_CHUNK]), ContentItem.received_at >= since
                )
            ).all()
            yield from index.match_exact(st, [r[0] for r in rows], [r[1] for r in rows])


def find_hits(session: Session, entries: list[NewEntry], days: int) -> Iterator[RetroHit]:
    """MD5 and SHA-256 by the indexed columns (one query per 5,000 new values); SHA-1 and PDQ in
    one pass over the window's uploads in batches (only when such entries came)."""
    index = RetroIndex(entries)
    yield from _indexed_exact_hits(session, index, days)
    scan_sha1 = bool(index.exact["sha1"])
    if index.index is None and not scan_sha1:
        return
    for batch in _upload_batches(session, days, only_pdq=not scan_sha1):
        if scan_sha1:
            yield from index.match_exact("sha1", batch.content_ids, batch.sha1)
        yield from index.match_pdq(batch.content_ids, batch.pdq)


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
    hits = list(find_hits(session, entries, days))
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
