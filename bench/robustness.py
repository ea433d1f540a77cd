"""Recall and false matches of PDQ matching on edited copies of real photographs, step by step,
and the per-upload cost of the extra query variants.

Evaluation set: tests/signals/photos.py (13 banked photographs from scikit-image and
scikit-learn in two folds, none showing a person; each fold's distractors are the other fold's
photographs and never-banked sources, whole and as tiles of distinct regions: 465 + 561).
Each banked photograph is hashed from a lossless PNG as `haven bank add` would; each edit of
STANDARD (target >= 99%), HARD (>= 80%) and OVERLAYS (measured) is queried as an upload.

Configurations, each adding one step to the previous:

  plain          original hash against original hash (what HMA does)
  before         Haven before this change: + 8 exact flips/rotations and the trimmed-border
                 image (query); + centre crops 95/90/85/80% and the trimmed image (bank)
  +bands         + the picture without its top or bottom band, both sides (robust.BAND_KEEPS)
  +query_centre  + centred crops of the query (robust.QUERY_CENTRE_KEEPS)
  +corners       + one-sided crops of the original keeping 95% of its width or height, and crops
                 keeping 95% of both at each corner (bank)
  +strong_crops  + deeper centre, one-sided and corner crops of the original (bank, level strong)
  +rotations     + small rotations of the original, black corners and straightened (bank, strong)

The bank levels are: off = plain bank side; standard = up to +corners; strong = all.
A query matches an entry when any (query variant, banked hash) pair is within --threshold bits.
False matches: every query variant of every distractor against every banked hash of its fold,
and every edited copy of one banked photograph against every *other* banked photograph.

Cost: median ms per upload of hashing the extra query variants (1024x768 JPEG, one core, one
BLAS thread) and of matching them in haven.banks.Matcher holding --index-size random hashes.

    .venv/bin/python bench/robustness.py [--threshold 31] [--bands 0.85] [--query-centre 0.77]

Ends with `RESULT {json}`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.signals import photos as P

from haven.signals import image as himg
from haven.signals import robust as R
from haven.signals.pdq import dihedral_from_luma, pdq_from_luma

STEPS = ("plain", "before", "+bands", "+query_centre", "+corners", "+strong_crops", "+rotations")
Named = list[tuple[str, str]]


def query_hashes(data: bytes, bands: tuple[float, ...], centre: tuple[float, ...]) -> tuple[dict[str, Named], int]:
    """Query hashes per step group: "plain", "before" (dihedral + trimmed), "bands", "centre"."""
    luma = himg.decode_luma(data).luma
    dih, quality = dihedral_from_luma(luma)
    before = list(dih)
    trimmed = himg.trim_uniform_borders(luma)
    if trimmed is not None:
        before += [(f"trimmed_{n}", h) for n, h in dihedral_from_luma(trimmed)[0]]
    return {
        "plain": dih[:1],
        "before": before,
        "bands": R.band_hashes(luma, bands),
        "centre": R.centre_hashes(luma, centre, prefix="centre"),
    }, quality


def bank_hashes(data: bytes, bands: tuple[float, ...]) -> tuple[dict[str, Named], int]:
    luma = himg.decode_luma(data).luma
    pdq, quality = pdq_from_luma(luma)
    return {
        "plain": [("original", pdq)],
        "before": himg.banked_variants(luma),
        "bands": R.band_hashes(luma, bands),
        "corners": R.side_hashes(luma, R.STANDARD_SIDE_KEEPS) + R.corner_hashes(luma, R.STANDARD_CORNER_KEEPS),
        "strong_crops": R.centre_hashes(luma, R.STRONG_CROPS)
        + [v for v in R.side_hashes(luma, R.STRONG_SIDE_KEEPS) if v[0].startswith(("left", "right"))]
        + R.corner_hashes(luma, R.STRONG_CORNER_KEEPS),
        "rotations": R.rotation_hashes(luma),
    }, quality


#: Which query and bank groups each step uses.
STEP_GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "plain": (("plain",), ("plain",)),
    "before": (("before",), ("plain", "before")),
    "+bands": (("before", "bands"), ("plain", "before", "bands")),
    "+query_centre": (("before", "bands", "centre"), ("plain", "before", "bands")),
    "+corners": (("before", "bands", "centre"), ("plain", "before", "bands", "corners")),
    "+strong_crops": (("before", "bands", "centre"), ("plain", "before", "bands", "corners", "strong_crops")),
    "+rotations": (
        ("before", "bands", "centre"),
        ("plain", "before", "bands", "corners", "strong_crops", "rotations"),
    ),
}


def words(hexes: list[str]) -> np.ndarray:
    return np.array([[int(h[i : i + 16], 16) for i in range(0, 64, 16)] for h in hexes], dtype=np.uint64).reshape(-1, 4)


def min_distance(q: np.ndarray, b: np.ndarray) -> int:
    if not len(q) or not len(b):
        return 256
    return int(np.bitwise_count(q[:, None, :] ^ b[None, :, :]).sum(axis=2).min())


def pick(groups: dict[str, Named], names: tuple[str, ...]) -> list[str]:
    return [h for g in names for _, h in groups.get(g, [])]


def via(qg: dict[str, Named], bg: dict[str, Named], step: str, t: int) -> str:
    """Which (query variant, bank variant) pair is the closest in a step (for the misses report)."""
    qn, bn = STEP_GROUPS[step]
    qs = [(n, h) for g in qn for n, h in qg.get(g, [])]
    bs = [(n, h) for g in bn for n, h in bg.get(g, [])]
    from haven.signals.pdq import hamming

    d, a, b = min((hamming(x, y), a, b) for a, x in qs for b, y in bs)
    return f"{d}:{a}~{b}"


def timeit(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def cost(bands: tuple[float, ...], centre: tuple[float, ...], index_size: int, rounds: int) -> dict[str, float]:
    """Median ms per upload: hashing the extra variants, and matching them in the real Matcher."""
    from PIL import Image
    from threadpoolctl import threadpool_limits

    from haven.banks.matcher import EntryMeta, Matcher

    data = P.encode(P.photo("flower").resize((1024, 768), Image.LANCZOS), "JPEG", quality=85)
    luma = himg.decode_luma(data).luma
    with threadpool_limits(1):
        hash_before = timeit(lambda: himg.hash_image(data, subregions=False), rounds)
        hash_after = timeit(lambda: himg.hash_image(data), rounds)
        extra_only = timeit(lambda: R.query_subregions(luma, bands, centre), rounds)
    rng = np.random.default_rng(7)
    m = Matcher()
    metas = [
        (EntryMeta(f"e{i:08d}", "bank", "known_csam", "pdq", rng.bytes(32).hex(), None, 31, False), True)
        for i in range(index_size)
    ]
    m.apply(metas, 1)
    before_v = himg.hash_image(data, subregions=False).query_variants
    after_v = himg.hash_image(data).query_variants
    match_before = timeit(lambda: m.match_pdq(before_v), rounds)
    match_after = timeit(lambda: m.match_pdq(after_v), rounds)
    return {
        "variants_before": len(before_v),
        "variants_after": len(after_v),
        "hash_ms_before": round(hash_before, 3),
        "hash_ms_after": round(hash_after, 3),
        "extra_hash_ms": round(extra_only, 3),
        "index_size": index_size,
        "match_ms_before": round(match_before, 3),
        "match_ms_after": round(match_after, 3),
        "extra_ms_per_upload": round(hash_after - hash_before + match_after - match_before, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threshold", type=int, default=31)
    ap.add_argument("--bands", default=",".join(str(c) for c in R.BAND_KEEPS))
    ap.add_argument("--query-centre", default=",".join(str(c) for c in R.QUERY_CENTRE_KEEPS))
    ap.add_argument("--min-quality", type=int, default=50)
    ap.add_argument("--index-size", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--no-cost", action="store_true")
    args = ap.parse_args()
    bands = tuple(float(c) for c in args.bands.split(",") if c)
    centre = tuple(float(c) for c in args.query_centre.split(",") if c)
    t = args.threshold
    transforms = {(fam, name): fn for fam, fs in P.FAMILIES.items() for name, fn in fs.items()}

    banks = {n: bank_hashes(P.banked_bytes(n), bands) for n in P.BANKED}
    queries: dict[tuple[str, str], tuple[dict[str, Named], int]] = {}
    for n in P.BANKED:
        for (_, tname), fn in transforms.items():
            queries[(n, tname)] = query_hashes(fn(P.photo(n)), bands, centre)
    dis = {f: [(label, query_hashes(data, bands, centre)) for label, data in P.distractors(f)] for f in P.FOLDS}

    bw = {s: {n: words(pick(banks[n][0], STEP_GROUPS[s][1])) for n in P.BANKED} for s in STEPS}
    result: dict[str, object] = {"threshold": t, "bands": bands, "query_centre": centre}
    per_t: dict[str, dict[str, float]] = {}
    fam_hits: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    misses: dict[str, list[str]] = defaultdict(list)
    low_q: list[str] = []
    print(f"recall at distance <= {t}: {len(P.BANKED)} banked photographs; bands {bands}, query centre {centre}")
    print(f"{'family':9s}{'edit':24s}" + "".join(f"{s:>14s}" for s in STEPS))
    for fam, tname in transforms:
        row = {}
        for s in STEPS:
            hits = []
            for n in P.BANKED:
                qg, q = queries[(n, tname)]
                ok = min_distance(words(pick(qg, STEP_GROUPS[s][0])), bw[s][n]) <= t
                hits.append(ok)
                fam_hits[fam][s].append(ok)
                if s == STEPS[-1] and not ok:
                    misses[tname].append(f"{n}({via(qg, banks[n][0], s, t)})")
                if s == STEPS[-1] and ok and q < args.min_quality:
                    low_q.append(f"{n}/{tname}:q{q}")
            row[s] = round(float(np.mean(hits)), 4)
        per_t[tname] = row
        print(f"{fam:9s}{tname:24s}" + "".join(f"{row[s]:14.2f}" for s in STEPS))
    print()
    fam_recall = {f: {s: round(float(np.mean(v)), 4) for s, v in d.items()} for f, d in fam_hits.items()}
    for f, d in fam_recall.items():
        n = len(fam_hits[f][STEPS[0]])
        print(f"{f + ' (' + str(n) + ')':33s}" + "".join(f"{d[s]:14.4f}" for s in STEPS))
    print("\nmisses with every step (closest distance: query variant ~ banked variant):")
    for tname, ms in misses.items():
        print(f"  {tname}: {', '.join(ms)}")
    print(f"\nmatches whose query quality < {args.min_quality} (reported as low_quality by intake): {low_q}")

    # False matches.
    false: dict[str, list[str]] = defaultdict(list)
    closest: dict[str, int] = {}
    pairs: dict[str, int] = defaultdict(int)
    for s in STEPS:
        qn = STEP_GROUPS[s][0]
        best = 256
        for f, items in dis.items():
            for label, (qg, _q) in items:
                qw = words(pick(qg, qn))
                for n in P.FOLDS[f]:
                    d = min_distance(qw, bw[s][n])
                    pairs[s] += 1
                    best = min(best, d)
                    if d <= t:
                        false[s].append(f"{label}->{n}:{d}")
        for (j, tname), (qg, _q) in queries.items():
            qw = words(pick(qg, qn))
            for i in P.BANKED:
                if i == j:
                    continue
                d = min_distance(qw, bw[s][i])
                pairs[s] += 1
                best = min(best, d)
                if d <= t:
                    false[s].append(f"{j}/{tname}->{i}:{d}")
        closest[s] = best
    n_dis = {f: len(v) for f, v in dis.items()}
    print(f"\nfalse matches: distractors {n_dis} against their fold's bank, and edited copies against other photos")
    for s in STEPS:
        print(f"  {s:14s} pairs {pairs[s]:6d}  false {len(false[s]):3d}  closest {closest[s]:3d}  {false[s][:6]}")
    bank_sizes = {s: round(float(np.mean([len(bw[s][n]) for n in P.BANKED])), 1) for s in STEPS}
    q_sizes = {
        s: round(float(np.mean([len(pick(qg, STEP_GROUPS[s][0])) for qg, _ in queries.values()])), 1) for s in STEPS
    }
    print(f"\nhashes per banked entry: {bank_sizes}\nquery hashes per upload: {q_sizes}")
    result.update(
        per_edit=per_t,
        families=fam_recall,
        false_matches={s: {"count": len(false[s]), "pairs": pairs[s], "closest": closest[s]} for s in STEPS},
        distractors=n_dis,
        hashes_per_entry=bank_sizes,
        hashes_per_query=q_sizes,
        misses=dict(misses),
    )
    # What a bank at each robustness level gets (every query variant against the level's entries).
    level_out: dict[str, dict[str, object]] = {}
    print("\nby bank robustness level (query: every variant intake looks up):")
    allq = ("before", "bands", "centre")
    for level in R.Robustness:
        lb = {}
        for n in P.BANKED:
            everything = [
                v for g in ("before", "bands", "corners", "strong_crops", "rotations") for v in banks[n][0][g]
            ]
            kept = R.keep_for_level(list(dict(everything).items()), level)
            lb[n] = words([banks[n][0]["plain"][0][1]] + [h for _, h in kept])
        fam: dict[str, list[bool]] = defaultdict(list)
        for f, tname in transforms:
            for n in P.BANKED:
                fam[f].append(min_distance(words(pick(queries[(n, tname)][0], allq)), lb[n]) <= t)
        nfalse, best = 0, 256
        for f, items in dis.items():
            for _label, (qg, _q) in items:
                qw = words(pick(qg, allq))
                for n in P.FOLDS[f]:
                    d = min_distance(qw, lb[n])
                    best, nfalse = min(best, d), nfalse + (d <= t)
        for (j, _tn), (qg, _q) in queries.items():
            qw = words(pick(qg, allq))
            for i in P.BANKED:
                if i != j:
                    d = min_distance(qw, lb[i])
                    best, nfalse = min(best, d), nfalse + (d <= t)
        rec = {f: round(float(np.mean(v)), 4) for f, v in fam.items()}
        size = round(float(np.mean([len(v) for v in lb.values()])), 1)
        level_out[level.value] = {"recall": rec, "false_matches": nfalse, "closest": best, "hashes_per_entry": size}
        print(f"  {level.value:9s} {rec}  false {nfalse}  closest {best}  hashes/entry {size}")
    result["levels"] = level_out
    if not args.no_cost:
        c = cost(bands, centre, args.index_size, args.rounds)
        print(f"\nper-upload cost (1024x768 JPEG, median of {args.rounds}): {c}")
        result["cost"] = c
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
