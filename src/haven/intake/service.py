"""Intake's doors for media: `POST /v1/content` and `POST /v1/hashes/lookup`.

Both screen through `haven.screening` (one pipeline, one writer of verdict events) and shape the
answer for the wire. Data minimisation: allowed content's bytes are never stored; the bytes of
blocked or held content go to the encrypted quarantine so a reviewer can see them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.accounts.service import touch_account
from haven.banks.matcher import Hit, Matcher
from haven.banks.models import Bank
from haven.core.clock import new_id, now
from haven.core.settings import Settings
from haven.intake.schemas import ContentMetadata, ContentResult, Hashes, MatchOut, VerdictOut
from haven.intake.testmode import excluded_bank
from haven.policy import Verdict
from haven.screening.models import ContentItem
from haven.screening.pipeline import ScreeningInput, StatusHit, match_many, screen, screen_many
from haven.screening.rulesets import active_ruleset
from haven.screening.settle import log_matches, settle
from haven.screening.signals import Signals
from haven.screening.video import record_video
from haven.signals.types import REGISTRY


def _bank_names(session: Session, hits: list[Hit]) -> dict[str, str]:
    ids = {h.entry.bank_id for h in hits}
    if not ids:
        return {}
    return dict(session.execute(select(Bank.id, Bank.name).where(Bank.id.in_(ids))).all())


def _match_out(hits: list[tuple[Hit, str]], names: dict[str, str]) -> list[MatchOut]:
    return [
        MatchOut(
            bank=names.get(h.entry.bank_id, h.entry.bank_id),
            bank_id=h.entry.bank_id,
            bank_kind=h.entry.bank_kind,
            entry_id=h.entry.entry_id,
            signal_type=h.entry.signal_type,
            distance=h.distance,
            classification=h.entry.classification,
            status=status,  # type: ignore[arg-type]
            query_variant=h.query_variant if h.entry.signal_type == "pdq" else None,
        )
        for h, status in hits
    ]


def _verdict_out(v: Verdict) -> VerdictOut:
    return VerdictOut(action=v.action, rule=v.rule, reason=v.reason)


def record_content(
    session: Session,
    settings: Settings,
    matcher: Matcher,
    *,
    integration_id: str,
    actor: str,
    data: bytes,
    signals: Signals,
    meta: ContentMetadata,
    test_mode: bool = False,
) -> tuple[ContentResult, list[StatusHit]]:
    """Screen, settle and store one upload in the caller's transaction; returns the answer and
    the screening's hits (a deferred classification decides on the same matches)."""
    img = signals.image
    touch_account(session, meta.uploader)
    screening = screen(
        session,
        settings,
        matcher,
        signals.screening_input(
            settings.pdq_min_quality, uploader=meta.uploader, recipients=tuple(meta.recipients), surface=meta.surface
        ),
        exclude_bank=excluded_bank(session, test_mode),
    )
    item = ContentItem(
        id=new_id(),
        integration_id=integration_id,
        external_id=meta.external_id,
        media_kind=signals.media_kind,
        content_type=meta.content_type or signals.mime,
        uploader=meta.uploader,
        surface=meta.surface,
        recipients=meta.recipients,
        created_at=min(meta.created_at, now()) if meta.created_at else None,  # never in the future
        ip=meta.ip,
        size_bytes=len(data),
        md5=signals.md5,
        sha1=signals.sha1,
        sha256=signals.sha256,
        pdq=img.pdq if img else None,
        pdq_quality=img.quality if img else None,
        width=img.width if img else None,
        height=img.height if img else None,
    )
    settle(session, settings, item, screening, actor=actor, data=data, content_type=signals.mime)
    if signals.video is not None or signals.video_deferred:
        record_video(session, settings, item.id, signals.video, data=data if signals.video_deferred else None)
    hits = screening.hits
    result = ContentResult(
        id=item.id,
        external_id=meta.external_id,
        media_kind=signals.media_kind,
        mime=signals.mime,
        hashes=Hashes(
            md5=signals.md5,
            sha1=signals.sha1,
            sha256=signals.sha256,
            pdq=img.pdq if img else None,
            pdq_quality=img.quality if img else None,
        ),
        matches=_match_out(hits, _bank_names(session, [h for h, _ in hits])),
        verdict=_verdict_out(screening.decision.verdict),
    )
    return result, hits


def lookup(
    session: Session,
    settings: Settings,
    matcher: Matcher,
    *,
    integration_id: str,
    queries: list[tuple[str, str, int | None]],
    test_mode: bool = False,
) -> list[dict[str, Any]]:
    """Match hashes a service computed itself (the privacy-preserving path) and log the matches,
    in the caller's transaction (`lookup_batch`, then `log_matches`)."""
    out, hits = lookup_batch(session, settings, matcher, queries=queries, test_mode=test_mode)
    log_matches(session, hits, integration_id=integration_id, source="lookup")
    return out


def lookup_batch(
    session: Session,
    settings: Settings,
    matcher: Matcher,
    *,
    queries: list[tuple[str, str, int | None]],
    test_mode: bool = False,
) -> tuple[list[dict[str, Any]], list[StatusHit]]:
    """The answers to a lookup and the hits its match log must record; reads only, so the API
    runs it in a read session and writes the log in a short transaction of its own (none at all
    when nothing matched: on SQLite a lookup then never takes the write lock).

    Batch all the way: every PDQ query of the request is one index search, done before the
    first statement; the rules are evaluated once per distinct pattern of matches; the answer is
    built as plain dicts in the wire shape of `LookupResult` (no per-hash models), and the match
    log is one statement.
    """
    inputs: list[ScreeningInput] = []
    values: list[tuple[str, str]] = []
    for signal_type, value, quality in queries:
        value = value.lower()
        if REGISTRY[signal_type].exact:
            inputs.append(ScreeningInput(exact=((signal_type, value),)))
        else:  # the one perceptual type lookups accept is PDQ (the registry's `lookupable`)
            inputs.append(ScreeningInput(perceptual=(("original", value),), pdq_quality=quality))
        values.append((signal_type, value))
    matched = match_many(matcher, inputs, min_quality=settings.pdq_min_quality)
    rules = active_ruleset(session)  # once per batch, not once per hash
    skip = excluded_bank(session, test_mode)
    screenings = screen_many(session, settings, matcher, inputs, matched, rules=rules, exclude_bank=skip)
    all_hits: list[StatusHit] = [h for sc in screenings for h in sc.hits]
    names = _bank_names(session, [h for h, _ in all_hits])
    verdicts: dict[int, dict[str, str]] = {}
    out: list[dict[str, Any]] = []
    for (signal_type, value), sc in zip(values, screenings, strict=True):
        v = sc.decision.verdict
        wire = verdicts.get(id(v))
        if wire is None:
            wire = verdicts[id(v)] = {"action": v.action, "rule": v.rule, "reason": v.reason}
        out.append(
            {
                "signal_type": signal_type,
                "value": value,
                "matches": [_match_dict(h, status, names) for h, status in sc.hits],
                "verdict": wire,
            }
        )
    return out, all_hits


def _match_dict(h: Hit, status: str, names: dict[str, str]) -> dict[str, Any]:
    """One match in the wire shape of `MatchOut`."""
    e = h.entry
    return {
        "bank": names.get(e.bank_id, e.bank_id),
        "bank_id": e.bank_id,
        "bank_kind": e.bank_kind,
        "entry_id": e.entry_id,
        "signal_type": e.signal_type,
        "distance": h.distance,
        "classification": e.classification,
        "status": status,
        "query_variant": h.query_variant if e.signal_type == "pdq" else None,
    }
