"""Recall of PDQ matching on transformed copies, with and without each of Haven's robustness steps.

For each scikit-image sample image (tests/helpers.py) the original is banked (lossless PNG, as
`haven bank add` would hash it) and every transformation of tests/helpers.TRANSFORMS (plus the
harder EXTRA_TRANSFORMS) is queried. Configurations, each adding one step:

  plain     original hash against original hash (what HMA does)
  dihedral  + the eight flips/rotations of the query
  trimmed   + the query with uniform borders trimmed (and its eight flips/rotations)
  bank_variants  + the variants banked with the entry (haven.signals.image.banked_variants):
                 centre crops (CENTRE_CROPS) and the image with its own uniform borders trimmed

A query matches an entry when any (query variant, banked hash) pair is within --threshold bits.
False matches: a transformed copy of one image matching the bank entry of any *other* image.

    .venv/bin/python bench/robustness.py [--threshold 31] [--crops 0.95,0.9,0.85,0.8] [--trim-tolerance 24]

Ends with `RESULT {json}`: {"<transformation>": {"<configuration>": {"recall": ..}}, "false_matches": ..}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers import (
    EXTRA_SAMPLE_NAMES,
    EXTRA_TRANSFORMS,
    NOT_BANKED,
    ROBUSTNESS_NAMES,
    SAMPLE_NAMES,
    TRANSFORMS,
    encode,
    sample,
)

from haven.signals import image as himg
from haven.signals.pdq import dihedral_from_luma, hamming, pdq_from_luma

ALL_NAMES = SAMPLE_NAMES + EXTRA_SAMPLE_NAMES
CONFIGS = ("plain", "dihedral", "trimmed", "bank_variants")


def query_sets(data: bytes, tolerance: float) -> tuple[dict[str, list[str]], int]:
    """Query hashes for each configuration, and the quality of the query image."""
    luma = himg.decode_luma(data).luma
    dih, quality = dihedral_from_luma(luma)
    plain = [dih[0][1]]
    dihedral = [h for _, h in dih]
    trimmed_luma = himg.trim_uniform_borders(luma, tolerance=tolerance)
    trimmed = dihedral + ([h for _, h in dihedral_from_luma(trimmed_luma)[0]] if trimmed_luma is not None else [])
    return {"plain": plain, "dihedral": dihedral, "trimmed": trimmed, "bank_variants": trimmed}, quality


def bank_sets(data: bytes, crops: tuple[float, ...]) -> tuple[dict[str, list[str]], int]:
    luma = himg.decode_luma(data).luma
    original, quality = pdq_from_luma(luma)
    with_crops = [original] + [h for _, h in himg.banked_variants(luma, crops)]
    return {"plain": [original], "dihedral": [original], "trimmed": [original], "bank_variants": with_crops}, quality


def best(q: list[str], b: list[str]) -> int:
    return min(hamming(x, y) for x in q for y in b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threshold", type=int, default=31)
    ap.add_argument("--crops", default=",".join(str(c) for c in himg.CENTRE_CROPS))
    ap.add_argument("--trim-tolerance", type=float, default=himg.TRIM_TOLERANCE)
    ap.add_argument("--min-quality", type=int, default=50, help="queries below this quality are counted apart")
    args = ap.parse_args()
    crops = tuple(float(c) for c in args.crops.split(",") if c)
    t = args.threshold

    originals = {n: sample(n) for n in ALL_NAMES}
    banks = {}
    for n, img in originals.items():
        banks[n], q = bank_sets(encode(img, "PNG"), crops)
        print(f"bank {n:18s} quality {q}")
    transforms = {**TRANSFORMS, **EXTRA_TRANSFORMS}
    queries: dict[tuple[str, str], tuple[dict[str, list[str]], int]] = {}
    for n, img in originals.items():
        for tname, fn in transforms.items():
            queries[(n, tname)] = query_sets(fn(img), args.trim_tolerance)  # type: ignore[operator]

    low_quality = sorted(f"{n}/{tn}" for (n, tn), (_, q) in queries.items() if q < args.min_quality)
    result: dict[str, object] = {}
    print(f"\nrecall at distance <= {t} over {len(ROBUSTNESS_NAMES)} banked photographs; crops {crops}")
    print(
        f"('all': the full configuration over all {len(ALL_NAMES)} images, incl. not banked: {', '.join(NOT_BANKED)})"
    )
    print(
        f"{'transformation':18s}"
        + "".join(f"{c:>14s}" for c in CONFIGS)
        + f"{'all':>8s}   median distance (bank_variants)"
    )
    same_dists: dict[str, list[int]] = {c: [] for c in CONFIGS}
    for tname in transforms:
        row: dict[str, dict[str, float]] = {}
        cells = []
        for c in CONFIGS:
            d = [best(queries[(n, tname)][0][c], banks[n][c]) for n in ROBUSTNESS_NAMES]
            same_dists[c] += d if tname in TRANSFORMS else []
            recall = float(np.mean([x <= t for x in d]))
            row[c] = {"recall": round(recall, 4), "median_distance": float(np.median(d)), "max_distance": max(d)}
            cells.append(f"{recall:14.2f}")
        miss_d = {n: best(queries[(n, tname)][0]["bank_variants"], banks[n]["bank_variants"]) for n in ALL_NAMES}
        misses = [n for n, d in miss_d.items() if d > t]
        row["all"] = {"recall": round(1 - len(misses) / len(ALL_NAMES), 4)}
        cells.append(f"{row['all']['recall']:8.2f}")
        extra = "" if tname in TRANSFORMS else "  (extra)"
        print(
            f"{tname:18s}"
            + "".join(cells)
            + f"   {row['bank_variants']['median_distance']:5.1f}{extra}"
            + (f"  misses: {', '.join(f'{m}:{miss_d[m]}' for m in misses)}" if misses else "")
        )
        result[tname] = row

    # Unrelated pairs: every query of image j against the bank entry of every image i != j.
    unrelated: dict[str, list[int]] = {c: [] for c in CONFIGS}
    false: dict[str, list[str]] = {c: [] for c in CONFIGS}
    for (j, tname), (qs, _) in queries.items():
        for i in ALL_NAMES:
            if i == j:
                continue
            for c in CONFIGS:
                d = best(qs[c], banks[i][c])
                unrelated[c].append(d)
                if d <= t:
                    false[c].append(f"{j}/{tname}->{i}:{d}")
    print("\nunrelated pairs (query of one image against the entry of another):")
    for c in CONFIGS:
        u = np.array(unrelated[c])
        print(
            f"  {c:13s} pairs {u.size:5d}  false matches {len(false[c]):3d}  min {u.min():3d}  "
            f"p1 {np.percentile(u, 1):5.1f}  p50 {np.median(u):5.1f}" + (f"  {false[c][:5]}" if false[c] else "")
        )
    print("\nmatching pairs (required transformations) distance distribution:")
    for c in CONFIGS:
        s = np.array(same_dists[c])
        print(f"  {c:13s} p50 {np.median(s):5.1f}  p90 {np.percentile(s, 90):5.1f}  max {s.max():3d}")
    print(f"\nqueries with quality < {args.min_quality}: {len(low_quality)} {low_quality[:10]}")
    result["false_matches"] = {
        c: {"count": len(false[c]), "pairs": len(unrelated[c]), "min_distance": int(min(unrelated[c]))} for c in CONFIGS
    }
    result["required_recall"] = {
        c: {"recall": round(float(np.mean([x <= t for x in same_dists[c]])), 4)} for c in CONFIGS
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
