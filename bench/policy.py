"""Policy rules cost per decision: the pure engine, and what intake adds per item (active rule
set lookup and the uploader's standing) on SQLite. Prints medians and ends with `RESULT {json}`."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from haven.accounts.models import Account
from haven.core.db import Database
from haven.core.migrate import upgrade
from haven.policy import MatchView, PolicyInput, evaluate
from haven.policy.shipped import default_ruleset
from haven.screening.pipeline import account_view
from haven.screening.rulesets import decide


def per_call_us(fn, n: int, repeats: int = 7) -> float:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - t) / n * 1e6)
    return statistics.median(runs)


def main() -> None:
    rs = default_ruleset()
    nothing = PolicyInput()
    hit = PolicyInput(matches=(MatchView("known_csam", "pdq", 12, 31, "active", "A1"),))
    scored = PolicyInput(scores={"m": {"version": "1", "scores": {"possible_csam": 0.2, "grooming": 0.1}}})
    figures = {
        "evaluate_no_match_us": per_call_us(lambda: evaluate(rs, nothing), 5000),
        "evaluate_block_us": per_call_us(lambda: evaluate(rs, hit), 5000),
        "evaluate_scores_allow_us": per_call_us(lambda: evaluate(rs, scored), 5000),
    }
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        db = Database(url)
        with db.session() as s:
            s.add(Account(id="a1"))
        with db.session() as s:
            figures["decide_with_db_us"] = per_call_us(lambda: decide(s, nothing), 500)
            figures["account_view_us"] = per_call_us(lambda: account_view(s, "a1"), 500)
        db.dispose()
    for k, v in figures.items():
        print(f"{k:28s} {v:8.1f} µs (median of 7 runs)")
    print("RESULT " + json.dumps({k: round(v, 1) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
