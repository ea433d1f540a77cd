"""Validation cost of one `POST /v1/hashes/lookup` body of 1,000 hashes (md5, sha1, sha256, pdq
in turn): the pydantic schema (`LookupRequest`, signal types read from the registry) and the
per-value check (`intake.api.check_hashes`, each type's precompiled pattern), against the inline
check the route had before the signal-type registry (reproduced here as `inline_before`).
Prints medians of interleaved rounds and ends with `RESULT {json}`."""

from __future__ import annotations

import json
import random
import statistics
import timeit

from haven.intake.api import check_hashes
from haven.intake.schemas import LookupRequest
from haven.signals.pdq import is_valid_pdq

LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}


def payload(n: int = 1000) -> dict[str, list[dict[str, str]]]:
    rng = random.Random(1)
    types = list(LENGTHS)
    return {
        "hashes": [
            {"signal_type": st, "value": "".join(rng.choice("0123456789abcdef") for _ in range(LENGTHS[st]))}
            for st in (types[i % len(types)] for i in range(n))
        ]
    }


def inline_before(body: LookupRequest) -> list[int]:
    """The route's check before the registry (commit 61ddd3f)."""
    problems = []
    for i, h in enumerate(body.hashes):
        v = h.value.lower()
        ok = (
            is_valid_pdq(v)
            if h.signal_type == "pdq"
            else (
                len(v) == {"md5": 32, "sha1": 40, "sha256": 64}[h.signal_type]
                and all(c in "0123456789abcdef" for c in v)
            )
        )
        if not ok:
            problems.append(i)
    return problems


def main() -> None:
    raw = payload()
    body = LookupRequest.model_validate(raw)
    assert not check_hashes(body)[1] and not inline_before(body)
    cases = {
        "schema": lambda: LookupRequest.model_validate(raw),
        "check_hashes": lambda: check_hashes(body),
        "inline_before": lambda: inline_before(body),
    }
    runs: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(9):  # interleaved, so machine noise hits every case alike
        for name, fn in cases.items():
            runs[name].append(min(timeit.repeat(fn, number=20, repeat=3)) / 20 * 1e3)
    result = {k: round(statistics.median(v), 3) for k, v in runs.items()}
    for k, v in result.items():
        print(f"{k:>14}: {v:.3f} ms per 1,000 hashes")
    print(f"check_hashes is {result['inline_before'] / result['check_hashes']:.2f}x the inline check's speed")
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
