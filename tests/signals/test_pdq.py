"""Haven's PDQ (two matrix products) must be bit-identical to Meta's reference via `pdqhash`."""

from __future__ import annotations

import numpy as np
import pdqhash
import pytest
from PIL import Image

from haven.signals.pdq import (
    DIHEDRAL,
    bits_to_hex,
    dihedral_from_array,
    hamming,
    hex_to_bits,
    is_valid_pdq,
    pdq_from_array,
)
from tests.helpers import SAMPLE_NAMES, sample

SHAPES = [None, (1024, 700), (333, 1500), (40, 30), (7, 5)]


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_bit_identical_to_reference_with_quality_and_all_dihedral_variants(name: str) -> None:
    rgb = np.asarray(sample(name))
    for shape in SHAPES:
        arr = rgb if shape is None else np.asarray(Image.fromarray(rgb).resize(shape, Image.BILINEAR))
        ref_vectors, ref_quality = pdqhash.compute_dihedral(np.ascontiguousarray(arr))
        ours, quality = dihedral_from_array(arr, exact=False)
        assert [n for n, _ in ours] == list(DIHEDRAL)
        assert quality == ref_quality, (name, arr.shape)
        for (variant, value), ref in zip(ours, ref_vectors, strict=True):
            assert value == bits_to_hex(ref), (name, arr.shape, variant)
        single, q1 = pdq_from_array(arr)
        assert (single, q1) == (ours[0][1], quality)


def test_greyscale_input_equals_replicated_rgb() -> None:
    grey = np.asarray(sample("camera").convert("L"))
    assert pdq_from_array(grey) == pdq_from_array(np.repeat(grey[:, :, None], 3, axis=2))


@pytest.mark.parametrize("name", ["astronaut", "brick", "coffee", "page"])
def test_exact_dihedral_variants_are_the_hashes_of_the_transformed_images(name: str) -> None:
    """'rot90' is the hash of the image rotated 90 degrees counter-clockwise, 'mirror' of its
    left-right mirror, and so on: a rotated copy of a banked image gets its original hash back."""
    rgb = np.asarray(sample(name))
    exact = dict(dihedral_from_array(rgb)[0])
    transforms = {
        "original": rgb,
        "rot90": np.rot90(rgb, 1),
        "rot180": np.rot90(rgb, 2),
        "rot270": np.rot90(rgb, 3),
        "flip_ud": rgb[::-1],
        "mirror": rgb[:, ::-1],
        "transpose": rgb.transpose(1, 0, 2),
        "antitranspose": np.rot90(rgb, 2).transpose(1, 0, 2),
    }
    for variant, arr in transforms.items():
        transformed = pdq_from_array(np.ascontiguousarray(arr))[0]
        assert exact[variant] == transformed, variant
        assert min(hamming(v, transformed) for n, v in exact.items() if n != variant) > 64, variant


def test_hex_helpers() -> None:
    h = pdq_from_array(np.asarray(sample("coffee")))[0]
    assert is_valid_pdq(h) and not is_valid_pdq(h[:-1]) and not is_valid_pdq("z" * 64)
    assert bits_to_hex(hex_to_bits(h)) == h
    assert hamming(h, h) == 0
    flipped = f"{int(h, 16) ^ 0b1011:064x}"
    assert hamming(h, flipped) == 3


def test_uniform_image_has_zero_quality() -> None:
    _, quality = pdq_from_array(np.full((300, 200, 3), 128, np.uint8))
    assert quality == 0
