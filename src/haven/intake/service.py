"""Intake: hash what a service sends, match it against the banks, decide, and record it.

Data minimisation: allowed content's bytes are never stored; the bytes of blocked or held
content go to the encrypted quarantine store so a reviewer can see them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from haven.accounts.models import Account
from haven.accounts.service import touch_account
from haven.banks.matcher import Hit, Matcher
from haven.banks.models import Bank
from haven.banks.service import flood_check
from haven.classify import Content, registry_for
from haven.classify.priority import Priority, new_material_priority
from haven.core.clock import new_id, now
from haven.core.errors import UnsupportedMediaType
from haven.core.ledger import record_event
from haven.core.settings import Settings
from haven.intake import quarantine
from haven.intake.models import ContentItem, Match
from haven.intake.schemas import ContentMetadata, ContentResult, Hashes, LookupResult, MatchOut, VerdictOut
from haven.policy import AccountView, Decision, MatchView, PolicyInput, Verdict, evaluate
from haven.policy.rules import uses
from haven.policy.store import active_ruleset
from haven.signals.crypto import crypto_hashes
from haven.signals.image import ImageHashes, decode_image, hash_image, sniff_media_kind
from haven.signals.video import VideoSignals, analyse_video, probe_duration

#: Rule actions that enforcement carries out (removal, the ladder, account actions).
ENFORCING_ACTIONS = frozenset({"content.remove", "ladder", "account.restrict", "account.suspend", "account.terminate"})

#: Perceptual matches within this many bits of their bank's threshold go to review, not block.
NEAR_THRESHOLD_BAND = 0


@dataclass
class Signals:
    """The signals of one piece of content, computed outside any database transaction."""

    media_kind: str
    mime: str
    md5: str
    sha1: str
    sha256: str
    image: ImageHashes | None = None
    #: Classifier output ({name: {"version", "scores"}}), computed with the hashes.
    scores: dict[str, Any] = field(default_factory=dict)
    #: Video analysed in the request (short videos); None for images and for long videos.
    video: VideoSignals | None = None
    #: A long video whose analysis the worker does after the answer.
    video_deferred: bool = False


def compute_signals(data: bytes, settings: Settings, surface: str | None = None, *, classify: bool = False) -> Signals:
    """Hash the bytes and, with `classify`, run the surface's classifiers; CPU-bound, so the API
    runs it in a worker thread. Short videos are analysed here, long ones are left to the worker."""
    sniffed = sniff_media_kind(data)
    if sniffed is None:
        raise UnsupportedMediaType(
            "unsupported media type: send an image (JPEG, PNG, GIF, WebP, BMP, TIFF, HEIC/HEIF) "
            "or a video (MP4, MOV, WebM, AVI)",
            details={"first_bytes": data[:8].hex()},
        )
    kind, mime = sniffed
    if kind == "image":
        img = hash_image(
            data,
            max_pixels=settings.max_image_pixels,
            dihedral=settings.query_dihedral,
            trim_borders=settings.query_trim_borders,
        )
        c = img.crypto
        out = Signals(kind, img.mime, c.md5, c.sha1, c.sha256, img)
        if classify:
            out.scores = classify_image(settings, surface, data)
        return out
    c = crypto_hashes(data)
    out = Signals(kind, mime, c.md5, c.sha1, c.sha256)
    if kind == "video" and classify:
        if probe_duration(data) <= settings.video_inline_max_seconds:
            out.video = analyse_video(data, sample=settings.video_sample_frames)
            out.scores = registry_for(settings).run(surface, Content.of_frames(out.video.frames))
        else:
            out.video_deferred = True
    return out


def classify_image(settings: Settings, surface: str | None, data: bytes) -> dict[str, Any]:
    """The surface's classifiers on the decoded image (a second, fast decode: the hashing path
    keeps no pixels)."""
    if not registry_for(settings).names_for(surface):
        return {}
    decoded = decode_image(data, max_pixels=settings.max_image_pixels)
    return registry_for(settings).run(surface, Content.of_image(decoded.rgb))


def _bank_names(session: Session, hits: list[Hit]) -> dict[str, str]:
    ids = {h.entry.bank_id for h in hits}
    if not ids:
        return {}
    return dict(session.execute(select(Bank.id, Bank.name).where(Bank.id.in_(ids))).all())


def match_signals(
    matcher: Matcher,
    *,
    exact: list[tuple[str, str]],
    pdq_variants: list[tuple[str, str]],
    pdq_quality: int | None,
    min_quality: int,
) -> list[tuple[Hit, str]]:
    """All hits with their status: active, quarantined, allowlisted or low_quality.

    An allowlist hit on an exact hash suppresses every match of the item; an allowlist hit on
    PDQ suppresses only the perceptual ones (a known false positive of the perceptual hash
    must not hide a byte-identical copy of known material).
    """
    exact_hits = [h for st, v in exact for h in matcher.match_exact(st, v)]
    pdq_hits = matcher.match_pdq(pdq_variants) if pdq_variants else []
    allow_exact = any(h.entry.bank_kind == "allowlist" for h in exact_hits)
    allow_pdq = allow_exact or any(h.entry.bank_kind == "allowlist" for h in pdq_hits)
    low_quality = pdq_quality is not None and pdq_quality < min_quality
    out: list[tuple[Hit, str]] = []
    for h in exact_hits:
        status = (
            "allowlisted"
            if allow_exact and h.entry.bank_kind != "allowlist"
            else ("quarantined" if h.entry.quarantined else "active")
        )
        out.append((h, status))
    for h in pdq_hits:
        if low_quality:
            status = "low_quality"
        elif allow_pdq and h.entry.bank_kind != "allowlist":
            status = "allowlisted"
        else:
            status = "quarantined" if h.entry.quarantined else "active"
        out.append((h, status))
    return out


def _views(hits: list[tuple[Hit, str]]) -> list[MatchView]:
    return [
        MatchView(h.entry.bank_kind, h.entry.signal_type, h.distance, h.entry.threshold, status, h.entry.classification)
        for h, status in hits
    ]


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


def account_view(session: Session, account_id: str | None) -> AccountView | None:
    """The uploader's context for policy rules: age band, account age, strikes and history."""
    if not account_id:
        return None
    from haven.enforce.strikes import standing

    row = session.get(Account, account_id)
    if row is None:
        return AccountView()
    active, violations = standing(session, account_id)
    return AccountView(
        age_band=row.age_band,
        age_days=max(0, (now() - row.created_at).days),
        active_strikes=active,
        prior_violations=violations,
    )


def video_frame_queries(video: VideoSignals, min_quality: int) -> list[tuple[str, str]]:
    """vPDQ's per-second frame hashes as PDQ queries against image banks (frame-level matching)."""
    seen: dict[str, str] = {}
    for f in video.vpdq:
        if f.quality >= min_quality and f.pdq not in seen:
            seen[f.pdq] = f"frame@{f.timestamp:g}s"
    return [(name, h) for h, name in seen.items()]


def scores_with_priority(
    session: Session, settings: Settings, scores: dict[str, Any], meta: ContentMetadata, *, has_matches: bool
) -> tuple[dict[str, Any], Priority]:
    """Add the "possible new material" priority (from scores, age bands, surface and matches)."""
    if not scores:
        return scores, Priority("NONE", 0.0)
    uploader = session.get(Account, meta.uploader) if meta.uploader else None
    bands = (
        list(session.scalars(select(Account.age_band).where(Account.id.in_(meta.recipients))))
        if meta.recipients
        else []
    )
    priority = new_material_priority(
        scores,
        uploader_band=uploader.age_band if uploader else None,
        recipient_bands=bands,
        surface=meta.surface,
        has_matches=has_matches,
        explicit_threshold=settings.explicit_threshold,
        minor_threshold=settings.apparent_minor_threshold,
    )
    if priority.level == "NONE":
        return scores, priority
    return {**scores, "new_material": priority.to_scores()}, priority


def log_matches(
    session: Session,
    hits: list[tuple[Hit, str]],
    *,
    integration_id: str,
    source: str,
    content_id: str | None = None,
) -> None:
    """Write the match log (one row per hit, in one statement); flood protection counts it."""
    if not hits:
        return
    stamp = now()
    session.execute(
        insert(Match),
        [
            dict(
                id=new_id(),
                content_id=content_id,
                integration_id=integration_id,
                source=source,
                bank_id=h.entry.bank_id,
                entry_id=h.entry.entry_id,
                signal_type=h.entry.signal_type,
                distance=h.distance,
                classification=h.entry.classification,
                status=status,
                query_variant=h.query_variant if content_id else None,
                created_at=stamp,
            )
            for h, status in hits
        ],
    )


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
) -> ContentResult:
    """Match, decide and store one item in the caller's transaction."""
    img = signals.image
    exact = [("md5", signals.md5), ("sha1", signals.sha1), ("sha256", signals.sha256)]
    pdq_variants = img.query_variants if img else []
    if signals.video is not None:
        pdq_variants = video_frame_queries(signals.video, settings.pdq_min_quality)
    hits = match_signals(
        matcher,
        exact=exact,
        pdq_variants=pdq_variants,
        pdq_quality=img.quality if img else None,
        min_quality=settings.pdq_min_quality,
    )
    content_id = new_id()
    touch_account(session, meta.uploader)
    scores, priority = scores_with_priority(session, settings, signals.scores, meta, has_matches=bool(hits))
    rules = active_ruleset(session)
    decision = evaluate(
        rules,
        PolicyInput(
            matches=tuple(_views(hits)),
            scores=scores,
            # The uploader's standing costs two queries; only gathered when a rule reads it.
            account=account_view(session, meta.uploader) if uses(rules, "account") else None,
            surface=meta.surface,
            media_kind=signals.media_kind,
        ),
        near_band=NEAR_THRESHOLD_BAND,
    )
    verdict = decision.verdict
    item = ContentItem(
        id=content_id,
        integration_id=integration_id,
        external_id=meta.external_id,
        media_kind=signals.media_kind,
        content_type=meta.content_type or signals.mime,
        uploader=meta.uploader,
        surface=meta.surface,
        recipients=meta.recipients,
        created_at=meta.created_at,
        ip=meta.ip,
        size_bytes=len(data),
        md5=signals.md5,
        sha1=signals.sha1,
        sha256=signals.sha256,
        pdq=img.pdq if img else None,
        pdq_quality=img.quality if img else None,
        width=img.width if img else None,
        height=img.height if img else None,
        verdict=verdict.action,
        verdict_rule=verdict.rule,
        verdict_reason=verdict.reason,
        scores=scores,
    )
    session.add(item)
    session.flush()
    if signals.video is not None or signals.video_deferred:
        from haven.classify.videojobs import record_video

        record_video(session, settings, content_id, signals.video, data=data if signals.video_deferred else None)
    log_matches(session, hits, integration_id=integration_id, source="content", content_id=content_id)
    if verdict.action in ("block", "review") and item.quarantine_id is None:
        obj = quarantine.put(session, settings, content_id=content_id, data=data, content_type=signals.mime)
        item.quarantine_id = obj.id
    session.flush()
    active_entries = [h.entry.entry_id for h, status in hits if status == "active"]
    if active_entries:
        flood_check(
            session,
            active_entries,
            max_distinct=settings.flood_max_distinct,
            window_seconds=settings.flood_window_seconds,
        )
    record_event(
        session,
        "content.received",
        subject_type="content",
        subject_id=content_id,
        actor=actor,
        data={
            "media_kind": signals.media_kind,
            "surface": meta.surface,
            "uploader": meta.uploader,
            "matches": len(hits),
        },
    )
    record_event(
        session,
        "content.verdict",
        subject_type="content",
        subject_id=content_id,
        actor=actor,
        data={
            "action": verdict.action,
            "rule": verdict.rule,
            "labels": verdict.labels + [x for x in priority.labels if x not in verdict.labels],
            "matched_entries": active_entries,
            "uploader": meta.uploader,
            "priority": priority.level,
            "pending_analysis": signals.video_deferred,
            **decision.to_event(),
        },
    )
    if verdict.action == "block" and set(decision.actions) & ENFORCING_ACTIONS:
        # A separate event, so that enforcement runs a job only for the (rare) items it acts on.
        record_event(
            session,
            "content.enforcement_requested",
            subject_type="content",
            subject_id=content_id,
            actor=actor,
            data={
                "rule": verdict.rule,
                "category": decision.category,
                "actions": list(decision.actions),
                "uploader": meta.uploader,
            },
        )
    return ContentResult(
        id=content_id,
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
        verdict=_verdict_out(verdict),
    )


def lookup(
    session: Session,
    settings: Settings,
    matcher: Matcher,
    *,
    integration_id: str,
    queries: list[tuple[str, str, int | None]],
    dihedral: bool = False,
) -> list[LookupResult]:
    """Match hashes a service computed itself (the privacy-preserving path) and log the matches.

    All matching happens before the first statement, so the transaction (on SQLite, the write
    lock) is held only for the short reads and the insert of the match log.
    """
    matched: list[tuple[str, str, list[tuple[Hit, str]]]] = []
    for signal_type, value, quality in queries:
        value = value.lower()
        if signal_type == "pdq":
            hits = match_signals(
                matcher,
                exact=[],
                pdq_variants=[("original", value)],
                pdq_quality=quality,
                min_quality=settings.pdq_min_quality,
            )
        else:
            hits = match_signals(
                matcher,
                exact=[(signal_type, value)],
                pdq_variants=[],
                pdq_quality=None,
                min_quality=settings.pdq_min_quality,
            )
        matched.append((signal_type, value, hits))
    rules = active_ruleset(session)  # once per batch, not once per hash
    results: list[tuple[str, str, list[tuple[Hit, str]], Verdict]] = []
    for signal_type, value, hits in matched:
        decision: Decision = evaluate(rules, PolicyInput(matches=tuple(_views(hits))), near_band=NEAR_THRESHOLD_BAND)
        results.append((signal_type, value, hits, decision.verdict))
    all_hits = [h for _, _, hits, _ in results for h, _ in hits]
    names = _bank_names(session, all_hits)
    log_matches(session, [h for _, _, hits, _ in results for h in hits], integration_id=integration_id, source="lookup")
    return [
        LookupResult(signal_type=st, value=v, matches=_match_out(hits, names), verdict=_verdict_out(verdict))
        for st, v, hits, verdict in results
    ]
