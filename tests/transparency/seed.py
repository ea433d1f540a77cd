"""A seeded ledger across capabilities: a few thousand events that fit the catalogue, at chosen
times, with banks and entries for the match dimension.

Every event is checked against the catalogue (`haven.core.events.check`, what `record_event`
does) and then written in one bulk insert: the statistics read the ledger only, so the jobs that
`record_event` would queue for subscribers are not needed here, and queueing them one by one
(a dedupe query and a savepoint each) made the seed take seconds per test."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from haven.banks.models import Bank, BankEntry
from haven.core.clock import new_id
from haven.core.events import check
from haven.core.models import Event
from haven.screening.models import ContentItem

START = datetime(2026, 3, 1, tzinfo=UTC)
CATS = ["csam", "grooming", "sextortion", "adult_nudity", "other", "ncii"]


def seed(session: Session, *, n_content: int = 600, rng_seed: int = 15) -> None:
    rng = random.Random(rng_seed)
    banks = []
    for kind, prov in (("csam", "ncmec"), ("local_confirmed", "manual"), ("ncii", "stopncii")):
        b = Bank(name=f"seed-{kind}-{new_id()[-6:]}", kind=kind, provenance=prov)
        session.add(b)
        session.flush()
        entries = []
        for _ in range(5):
            e = BankEntry(bank_id=b.id, signal_type="md5", added_by="seed", value=new_id().lower().ljust(32, "0")[:32])
            session.add(e)
            session.flush()
            entries.append(e.id)
        banks.append(entries)

    rows: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    reviewers = [f"staff-{n}" for n in range(6)]

    def ev(t: datetime, type: str, st: str, sid: str, data: dict, actor: str = "system:haven") -> None:
        check(type, st, data)
        rows.append(
            {
                "id": new_id(),
                "type": type,
                "subject_type": st,
                "subject_id": sid,
                "actor": actor,
                "data": data,
                "created_at": t,
            }
        )

    # Some events fall before the period (March) and after it, so the period boundary matters.
    for i in range(n_content):
        t = START + timedelta(days=rng.uniform(-10, 40), seconds=i)
        cid = new_id()
        kind = rng.choice(["image", "image", "video", "text"])
        ev(
            t,
            "content.received",
            "content",
            cid,
            {"media_kind": kind, "surface": "chat", "uploader": f"u{i % 97}", "matches": 0},
        )
        matched = []
        if rng.random() < 0.3:
            matched = [rng.choice(rng.choice(banks))]
        action = rng.choice(["allow", "allow", "review", "block"]) if not matched else "block"
        rule = (
            rng.choice(["known_material", "classifier_explicit_minor", "nudity_review"])
            if action != "allow"
            else "default"
        )
        ev(
            t + timedelta(seconds=1),
            "content.verdict",
            "content",
            cid,
            {
                "action": action,
                "rule": rule,
                "labels": [],
                "matched_entries": matched,
                "uploader": f"u{i % 97}",
                "priority": "HIGH",
                "pending_analysis": False,
                "analysis": None,
                "previous_action": None,
                "ruleset_version": "1",
                "category": None,
                "actions": [],
                "shadow": [],
            },
        )
        if action in ("review", "block"):
            # the screening results stored on the item: one classifier score (most items have one)
            items.append(
                {
                    "id": cid,
                    "integration_id": "seed",
                    "media_kind": kind,
                    "verdict": action,
                    "verdict_rule": rule,
                    "received_at": t,
                    "scores": {"nsfw": {"version": "1", "scores": {"nsfw": round(rng.random(), 3)}}}
                    if rng.random() < 0.9
                    else {},
                }
            )
        if action in ("review", "block") and rng.random() < 0.7:
            td = t + timedelta(seconds=rng.randint(30, 200_000))
            task_id = new_id()
            reviewer = rng.choice(reviewers)
            ev(
                t + timedelta(seconds=2),
                "review.task_created",
                "content",
                cid,
                {"task_id": task_id, "queue": "new_material", "priority": 2, "child_safety": rng.random() < 0.6},
            )
            verdict = rng.choice(["violation", "violation", "no_violation"])
            ev(
                td,
                "review.decision",
                "content",
                cid,
                {
                    "decision_id": new_id(),
                    "task_id": task_id,
                    "queue": "new_material",
                    "decision": verdict,
                    "category": rng.choice(CATS) if verdict == "violation" else None,
                    "classification": None,
                    "annotations": [],
                    "reviewer": reviewer,
                    "uploader": f"u{i % 97}",
                    "content_ids": [cid],
                    "automated": False,
                    "overturns": None,
                },
                actor=f"staff:{reviewer}",
            )
            if verdict == "violation":
                cat = rng.choice(CATS)
                did = new_id()
                ladder = {"action": rng.choice(["warning", "restrict", "suspend", "terminate"])}
                ev(
                    td + timedelta(seconds=2),
                    "enforcement.decided",
                    "content",
                    cid,
                    {
                        "decision_id": did,
                        "source": "review",
                        "source_ref": new_id(),
                        "category": cat,
                        "account_id": f"u{i % 97}",
                        "content_ids": [cid],
                        "source_type": rng.choice(["SOURCE_VOLUNTARY", "SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER"]),
                        "automated_detection": bool(matched),
                        "automated_decision": rng.choice(
                            ["AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_NOT_AUTOMATED"]
                        ),
                        "ladder": ladder,
                        "restrictions": ["content.remove"],
                    },
                )
                if rng.random() < 0.15:
                    aid = new_id()
                    ev(
                        td + timedelta(days=1),
                        "appeal.filed",
                        "appeal",
                        aid,
                        {
                            "appeal_id": aid,
                            "decision_id": did,
                            "source_ref": "x",
                            "category": cat,
                            "account_id": None,
                            "content_ids": [cid],
                            "original_deciders": [],
                            "priority": 1,
                            "automated_decision": "x",
                        },
                    )
                    ev(
                        td + timedelta(days=2),
                        "appeal.decided",
                        "appeal",
                        aid,
                        {
                            "appeal_id": aid,
                            "decision_id": did,
                            "outcome": rng.choice(["upheld", "rejected"]),
                            "reversed": [],
                            "category": cat,
                            "filed_at": (td + timedelta(days=1)).isoformat(),
                        },
                    )
                if cat in ("csam", "grooming") and rng.random() < 0.5:
                    rc = new_id()
                    ev(
                        td + timedelta(hours=3),
                        "report.finished",
                        "report_case",
                        rc,
                        {
                            "environment": rng.choice(["production", "test"]),
                            "ncmec_report_id": "1",
                            "files": [],
                            "seconds_since_knowledge": 3600.0,
                            "category": cat,
                        },
                    )
                    ev(
                        td + timedelta(hours=3),
                        "evidence.preserved",
                        "evidence_object",
                        new_id(),
                        {
                            "case_id": rc,
                            "kind": "media",
                            "sha256": "0" * 64,
                        },
                    )
    for i in range(300):
        t = START + timedelta(days=rng.uniform(-5, 35))
        case = new_id()
        cat = rng.choice(CATS)
        ev(
            t,
            "user_report.received",
            "notice_case",
            case,
            {
                "case_id": case,
                "report_id": new_id(),
                "merged": False,
                "priority": 1,
                "category": cat,
                "report_category": cat,
                "child_safety": cat in ("csam", "grooming", "sextortion"),
                "imminent_risk": rng.random() < 0.05,
                "trusted_flagger": rng.random() < 0.2,
                "anonymous": rng.random() < 0.3,
                "target_type": "content",
                "target_id": new_id(),
                "reports_count": 1,
                "verdict": "review",
                "rule": "user_report_review",
            },
        )
        if rng.random() < 0.6:
            ev(
                t + timedelta(hours=rng.randint(1, 90)),
                "notice_case.closed",
                "notice_case",
                case,
                {
                    "outcome": rng.choice(["violation", "no_violation"]),
                    "decision_id": None,
                    "reports": 1,
                    "reporters_told": 0,
                    "trusted_reports": 0,
                    "priority": 1,
                    "category": cat,
                },
            )
    for i in range(40):
        t = START + timedelta(days=rng.uniform(-3, 30))
        lr = new_id()
        due = t + timedelta(days=5)
        ev(
            t,
            "legal.request_received",
            "legal_request",
            lr,
            {
                "kind": rng.choice(["preservation", "subpoena", "emergency"]),
                "targets": 1,
                "country": rng.choice(["US", "DE", "ES"]),
                "due_at": due.isoformat(),
            },
        )
        if rng.random() < 0.8:
            ev(
                t + timedelta(days=rng.uniform(0.1, 8)),
                "legal.produced",
                "legal_request",
                lr,
                {
                    "categories": ["subscriber"],
                    "objects": 1,
                    "kind": "production",
                },
            )
    for i in range(120):
        t = START + timedelta(days=rng.uniform(0, 31))
        nid, family = new_id(), rng.choice(["grooming", "sextortion"])
        check(
            "safety.nudge",
            "account",
            data := {
                "account_id": f"m{i}",
                "conversation_id": f"c{i}",
                "turn": 3,
                "message": {"family": family, "title": "x", "library": rng.choice(["shipped", "operator"])},
            },
        )
        rows.append(
            {"id": nid, "type": "safety.nudge", "subject_type": "account", "subject_id": f"m{i}"}
            | {"actor": "system:haven", "data": data, "created_at": t}
        )
        # what the child did (told by the service), and reports and blocks, some long after the nudge
        for action in ("clicked", "dismissed", "reported", "blocked"):
            if rng.random() < 0.25:
                ev(
                    t + timedelta(minutes=rng.randint(1, 60)),
                    "safety.nudge_outcome",
                    "account",
                    f"m{i}",
                    {"nudge_event_id": nid, "action": action, "conversation_id": f"c{i}", "family": family},
                )
        if rng.random() < 0.3:
            ev(t + timedelta(hours=rng.uniform(0.1, 60)), "account.blocked", "account", f"m{i}", {"blocked": "x"})
        if rng.random() < 0.3:
            case = new_id()
            ev(
                t + timedelta(hours=rng.uniform(0.1, 60)),
                "user_report.received",
                "notice_case",
                case,
                {
                    "case_id": case,
                    "report_id": new_id(),
                    "merged": False,
                    "priority": 1,
                    "category": family,
                    "report_category": family,
                    "child_safety": True,
                    "imminent_risk": False,
                    "trusted_flagger": False,
                    "anonymous": False,
                    "target_type": "account",
                    "target_id": "x",
                    "reports_count": 1,
                    "verdict": "review",
                    "rule": "user_report_review",
                    "reporter_id": f"m{i}",
                },
            )
    if items:
        session.execute(insert(ContentItem), items)
    for i in range(0, len(rows), 1000):
        session.execute(insert(Event), rows[i : i + 1000])
    session.flush()
