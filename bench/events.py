"""Benchmark of the event catalogue: what checking an event against it adds to `record_event`.

Run: .venv/bin/python bench/events.py. Prints figures, ends with `RESULT {json}`. The machine is
shared (2 cores): quote the best of several repeats, and the ratio to recording without a check.
"""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable
from typing import Any

from haven.core import events, ledger

VERDICT: dict[str, Any] = {
    "action": "allow",
    "rule": "default.allow",
    "labels": ["a"],
    "matched_entries": ["e1", "e2"],
    "uploader": "u1",
    "priority": "NONE",
    "pending_analysis": False,
    "analysis": None,
    "previous_action": None,
    "ruleset_version": "1",
    "category": None,
    "actions": [],
    "shadow": [{"rule": "r", "verdict": "block", "would_decide": False}],
}
MESSAGE: dict[str, Any] = {"message_id": "m1", "turn": 4, "behaviours": 1, "action": "allow", "rule": "x"}
N = 20_000


class NoSession:
    """Stands in for a session: measures building the event, not the database."""

    def add(self, obj: object) -> None:
        pass


def us(fn: Callable[[], object]) -> float:
    return min(timeit.repeat(fn, number=N, repeat=5)) / N * 1e6


def record() -> object:
    return ledger.record_event(
        NoSession(),  # type: ignore[arg-type]
        events.CONTENT_VERDICT,
        subject_type="content",
        subject_id="c1",
        actor="integration:x",
        data=VERDICT,
    )


def main() -> None:
    out = {
        "check_content_verdict_us": us(lambda: events.check(events.CONTENT_VERDICT, "content", VERDICT)),
        "check_message_received_us": us(lambda: events.check(events.MESSAGE_RECEIVED, "conversation", MESSAGE)),
        "check_no_payload_us": us(lambda: events.check(events.STAFF_RESET, "staff", None)),
        "record_event_us": us(record),
    }
    check = events.check
    events.check = lambda *a: None  # type: ignore[assignment]
    try:
        out["record_event_unchecked_us"] = us(record)
    finally:
        events.check = check
    out["added_us"] = out["record_event_us"] - out["record_event_unchecked_us"]
    for k, v in out.items():
        print(f"{k:30} {v:8.2f}")
    print(f"ratio checked/unchecked       {out['record_event_us'] / out['record_event_unchecked_us']:8.2f}")
    print("RESULT " + json.dumps({k: round(v, 2) for k, v in out.items()}))


if __name__ == "__main__":
    main()
