"""Classifier quality per score threshold, from review outcomes.

A flagged item is a content item with a `content.verdict` of action `review` or `block` (any rule).
Its outcome is the last `review.decision` on it: `violation` (confirmed) or `no_violation`
(rejected); other decisions (escalations) leave it undecided. The classifier scores are not in
the ledger: they are the screening results stored on the item (`ContentItem.scores`,
{classifier: {"version", "scores": {label: score}}}), read for the flagged items only.

Per (classifier, label, score bucket of 0.1): flagged items, confirmed, rejected, precision. Per
threshold t (each bucket's lower bound): the items scoring at least t that reviewers decided,
and the precision a rule using `score >= t` would have had on them: what a rule owner reads to
move a threshold.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.transparency.stats import EventRow

EVENTS = ("content.verdict", "review.decision")
BUCKETS = 10


@dataclass
class Bucket:
    classifier: str
    label: str
    low: float  # the bucket is [low, low + 0.1), the last one includes 1.0
    flagged: int = 0
    confirmed: int = 0
    rejected: int = 0
    # at threshold `low`: items scoring >= low
    at_or_above_confirmed: int = 0
    at_or_above_rejected: int = 0

    @property
    def precision(self) -> float | None:
        n = self.confirmed + self.rejected
        return round(self.confirmed / n, 4) if n else None

    @property
    def threshold_precision(self) -> float | None:
        n = self.at_or_above_confirmed + self.at_or_above_rejected
        return round(self.at_or_above_confirmed / n, 4) if n else None


def outcomes(rows: Iterable[EventRow]) -> dict[str, str | None]:
    """content id -> the last review outcome of a flagged item ('violation', 'no_violation' or
    None while undecided); `rows` oldest first."""
    out: dict[str, str | None] = {}
    for e in rows:
        if e.subject_type != "content":
            continue
        if e.type == "content.verdict" and e.data.get("action") in ("review", "block"):
            out.setdefault(e.subject_id, None)
        elif (
            e.type == "review.decision"
            and e.subject_id in out
            and e.data.get("decision") in ("violation", "no_violation")
        ):
            out[e.subject_id] = str(e.data["decision"])
    return out


def load_scores(session: Session, content_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """content id -> its stored classifier scores (screening results), read in chunks."""
    from haven.screening.models import ContentItem

    ids = sorted(set(content_ids))
    found: dict[str, dict[str, Any]] = {}
    for i in range(0, len(ids), 500):
        for cid, scores in session.execute(
            select(ContentItem.id, ContentItem.scores).where(ContentItem.id.in_(ids[i : i + 500]))
        ):
            found[cid] = scores or {}
    return found


def bucket_of(score: float) -> float:
    return min(BUCKETS - 1, max(0, math.floor(score * BUCKETS))) / BUCKETS


def classifier_quality(outcome: dict[str, str | None], scores: dict[str, dict[str, Any]]) -> list[Bucket]:
    """Per (classifier, label, bucket), sorted; every bucket from 0.0 to 0.9 of a label seen."""
    table: dict[tuple[str, str, float], Bucket] = {}
    labels: set[tuple[str, str]] = set()
    for cid, result in outcome.items():
        for name, entry in sorted((scores.get(cid) or {}).items()):
            for label, score in sorted(((entry or {}).get("scores") or {}).items()):
                if not isinstance(score, int | float):
                    continue
                labels.add((name, label))
                key = (name, label, bucket_of(float(score)))
                b = table.setdefault(key, Bucket(*key))
                b.flagged += 1
                b.confirmed += result == "violation"
                b.rejected += result == "no_violation"
    out: list[Bucket] = []
    for name, label in sorted(labels):
        column = [table.get((name, label, i / BUCKETS)) or Bucket(name, label, i / BUCKETS) for i in range(BUCKETS)]
        conf = rej = 0
        for b in reversed(column):
            conf, rej = conf + b.confirmed, rej + b.rejected
            b.at_or_above_confirmed, b.at_or_above_rejected = conf, rej
        out.extend(column)
    return out


def csv_rows(table: list[Bucket]) -> Iterator[list[object]]:
    yield [
        "classifier",
        "label",
        "score_from",
        "score_to",
        "flagged",
        "confirmed",
        "rejected",
        "precision",
        "threshold_decided",
        "threshold_precision",
    ]
    for b in table:
        yield [
            b.classifier,
            b.label,
            f"{b.low:.1f}",
            f"{b.low + 1 / BUCKETS:.1f}",
            b.flagged,
            b.confirmed,
            b.rejected,
            "" if b.precision is None else b.precision,
            b.at_or_above_confirmed + b.at_or_above_rejected,
            "" if b.threshold_precision is None else b.threshold_precision,
        ]
