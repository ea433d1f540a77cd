"""Sub-region and small-rotation variants (haven.signals.robust) on real photographs
(tests/signals/photos.py): they are the PDQ of what they say, the plain hash does not change, and
each step catches the edits it is for without matching any unrelated distractor."""

from __future__ import annotations

import numpy as np
import pytest

from haven.signals import robust as R
from haven.signals.image import bank_variants, decode_luma, hash_image
from haven.signals.pdq import DIHEDRAL, hamming, pdq_from_luma
from tests.signals import photos as P

THRESHOLD = 31
FOLD = "A"


def _luma(name: str) -> np.ndarray:
    return decode_luma(P.banked_bytes(name)).luma


def test_band_and_side_hashes_are_the_pdq_of_the_cropped_image() -> None:
    luma = _luma("coffee")
    h, w = luma.shape
    n, m = round(h * 0.85), round(w * 0.95)
    bands = dict(R.band_hashes(luma, (0.85,)))
    # The bands share the full image's column pass (BLAS on other shapes): the same PDQ up to
    # float rounding at the median threshold.
    assert hamming(bands["top85"], pdq_from_luma(np.ascontiguousarray(luma[:n]))[0]) <= 2
    assert hamming(bands["bottom85"], pdq_from_luma(np.ascontiguousarray(luma[h - n :]))[0]) <= 2
    sides = dict(R.side_hashes(luma, (0.95,)))
    assert hamming(sides["left95"], pdq_from_luma(np.ascontiguousarray(luma[:, :m]))[0]) <= 2
    assert hamming(sides["right95"], pdq_from_luma(np.ascontiguousarray(luma[:, w - m :]))[0]) <= 2
    corners = dict(R.corner_hashes(luma, (0.95,)))
    ch, cw = round(h * 0.95), round(w * 0.95)
    assert hamming(corners["corner95_br"], pdq_from_luma(np.ascontiguousarray(luma[h - ch :, w - cw :]))[0]) <= 2


def test_the_plain_hash_and_the_old_variants_are_unchanged() -> None:
    data = P.STANDARD["jpeg_q20"](P.photo("rocket"))
    with_sub = hash_image(data)
    without = hash_image(data, subregions=False)
    assert with_sub.pdq == without.pdq == pdq_from_luma(decode_luma(data).luma)[0]
    assert with_sub.query_variants[: len(without.query_variants)] == without.query_variants
    extra = [n for n, _ in with_sub.query_variants[len(without.query_variants) :]]
    assert extra == ["top85", "bottom85", "centre77"]


def test_levels_keep_nested_sets_of_variants() -> None:
    _, strong = bank_variants(P.banked_bytes("chelsea"))
    assert R.keep_for_level(strong, "off") == []
    standard = R.keep_for_level(strong, "standard")
    assert {n for n, _ in standard} == {n for n, _ in strong} & R.STANDARD_NAMES
    assert R.keep_for_level(strong, "strong") == strong
    assert len({n for n, _ in strong}) == len(strong)  # no name twice
    assert bank_variants(P.banked_bytes("chelsea"), level="off")[1] == []
    assert R.variant_level("rot+2.5_fill") is R.Robustness.strong
    assert R.variant_level("top85") is R.Robustness.standard


def test_small_images_give_no_degenerate_variants() -> None:
    tiny = np.zeros((12, 12), dtype=np.float32)
    assert R.band_hashes(tiny) == []
    assert R.corner_hashes(tiny) == []


# -- recall and false matches on fold A (bench/robustness.py measures both folds, every edit) -----


@pytest.fixture(scope="module")
def banks() -> dict[str, dict[str, list[str]]]:
    """Per photograph: hashes at level off / standard / strong."""
    out = {}
    for name in P.FOLDS[FOLD]:
        hashes, strong = bank_variants(P.banked_bytes(name))
        out[name] = {level: [hashes.pdq] + [v for _, v in R.keep_for_level(strong, level)] for level in R.Robustness}
    return out


def _dist(query: list[tuple[str, str]], banked: list[str]) -> int:
    return min(hamming(q, b) for _, q in query for b in banked)


CASES = [  # (edit, level that must match it, what matches it)
    ("caption_bar_bottom", "standard", "bands"),
    ("caption_bar_top", "standard", "bands"),
    ("crop5_one_side", "standard", "one-sided crops"),
    ("crop5_one_corner", "standard", "corner crops"),
    ("pad15_blurred", "off", "the query's centred crop"),
    ("crop15_per_side", "strong", "deeper centre crops"),
    ("crop15_one_corner", "strong", "deeper corner crops"),
    ("rotate_+5", "strong", "rotations"),
    ("rotate_-3", "strong", "rotations"),
]


@pytest.mark.parametrize(("edit", "level", "how"), CASES)
def test_each_step_matches_the_edits_it_is_for(edit: str, level: str, how: str, banks: dict) -> None:
    make = {**P.STANDARD, **P.HARD}[edit]
    order = list(R.Robustness)
    below = order[max(0, order.index(R.Robustness(level)) - 1)]
    missed_before = []
    for name in P.FOLDS[FOLD]:
        query = hash_image(make(P.photo(name))).query_variants
        assert _dist(query, banks[name][level]) <= THRESHOLD, (name, edit, how)
        # Before this step: the query side without sub-regions, the bank one level lower.
        old_query = [(n, h) for n, h in query if n in DIHEDRAL or n.startswith("trimmed")]
        if _dist(old_query, banks[name][below]) > THRESHOLD:
            missed_before.append(name)
    assert len(missed_before) > len(P.FOLDS[FOLD]) / 2, missed_before  # the step is what matches most


def test_no_distractor_matches_a_strong_bank(banks: dict) -> None:
    distractors = P.distractors(FOLD)
    assert len(distractors) >= 300
    assert not set(P.distractor_sources(FOLD)) & set(P.FOLDS[FOLD])
    closest, false = 256, []
    for label, data in distractors:
        query = hash_image(data).query_variants
        for name in P.FOLDS[FOLD]:
            d = _dist(query, banks[name]["strong"])
            closest = min(closest, d)
            if d <= THRESHOLD:
                false.append((label, name, d))
    assert false == []
    assert closest > 2 * THRESHOLD, closest
