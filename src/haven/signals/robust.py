"""Sub-region and small-rotation PDQ variants: what lets a copy with a caption bar, a crop,
padding or a slight tilt still match (measured in bench/robustness.py, docs/signals.md).

PDQ hashes the whole picture, so anything that covers or removes a band of it moves the hash
by more than the 31-bit threshold. Two sides work together:

* **query side** (every upload): the PDQ of the picture without its top or bottom band (a
  caption bar, a watermark strip, a sticker near an edge cover it) and of centred crops (a frame
  or padding that is not uniform, such as a blurred copy of the picture behind it);
* **bank side** (entries Haven hashes from media itself, by the bank's robustness level): the
  same bands of the original, so the query's "without the bottom band" meets the original's,
  plus centre and off-centre crops and small rotations of the original.

A band keeps the image's full width, so all bands share one column pass (the size of one PDQ's)
and each then costs a 64 x h' x 64 product; a centred crop costs about one PDQ of the crop.
Measured per 1024x768 upload: ~1.5 ms for the two bands, ~1 ms for the centred crop.

Pure functions on PDQ luma (float32 2-D arrays): no I/O, no settings.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
from PIL import Image

from haven.signals.pdq import FloatArray, _hash_of_buffer, _one_blas_thread, _reducer, pdq_from_luma


class Robustness(StrEnum):
    """How many variants a bank keeps for the entries Haven hashes itself."""

    #: the PDQ of the image only (and its exact hashes)
    off = "off"
    #: + centre crops, the trimmed image, and the top and bottom bands queries are matched with
    standard = "standard"
    #: + deeper and off-centre crops and small rotations (more index entries, more false-match risk)
    strong = "strong"


#: Query side and bank side: the picture without its bottom / top band, keeping this fraction of
#: the height. Uploads are hashed with these; banks at `standard` and above keep the same bands
#: of the original, so a caption bar or strip that covers up to (1 - keep) of the height matches.
BAND_KEEPS = (0.85,)
#: Query side: centred crops keeping this fraction of each side (a copy inside a frame or
#: non-uniform padding, 0.77 = the picture inside 15% padding per side).
QUERY_CENTRE_KEEPS = (0.77,)
#: Bank side (`standard`): centre crops, as `haven.signals.image.CENTRE_CROPS`.
STANDARD_CROPS = (0.95, 0.90, 0.85, 0.80)
#: Bank side: one-sided crops keeping this fraction of the width or height (`left95` keeps the
#: left 95%) and off-centre crops keeping it of both, anchored at each corner: PDQ does not
#: survive even 5% cut from one side or one corner (40-86 bits, bench/robustness.py).
STANDARD_SIDE_KEEPS = (0.95,)
STANDARD_CORNER_KEEPS = (0.95,)
#: Bank side (`strong`): deeper centre, side and corner crops.
STRONG_CROPS = (0.75, 0.70)
STRONG_SIDE_KEEPS = (0.85,)
STRONG_CORNER_KEEPS = (0.85,)
#: Bank side (`strong`): rotations in degrees (counter-clockwise), corners filled black as a
#: tilted copy's are; each also as its largest upright centred rectangle (a "straightened" copy).
ROTATIONS = (-5.0, -2.5, 2.5, 5.0)


def _lum(luma: FloatArray) -> FloatArray:
    return np.ascontiguousarray(luma, dtype=np.float32)


def band_hashes(
    luma: FloatArray, keeps: tuple[float, ...] = BAND_KEEPS, cols: FloatArray | None = None
) -> list[tuple[str, str]]:
    """PDQ of the image without its bottom band (`top{keep}`) and without its top band
    (`bottom{keep}`), for each fraction of the height kept. Empty for images under 16 rows.
    `cols` is the image's column pass when the caller has it (`pdq.dihedral_with_columns`)."""
    h, w = luma.shape[:2]
    if h < 16 or w < 1:
        return []
    with _one_blas_thread():
        if cols is None:
            cols = _lum(luma) @ _reducer(w).T  # h x 64: the column pass is shared by every band
        out = []
        for keep in keeps:
            n = round(h * keep)
            if not 0 < n < h:
                continue
            tag = round(keep * 100)
            for name, rows in ((f"top{tag}", cols[:n]), (f"bottom{tag}", cols[h - n :])):
                out.append((name, _hash_of_buffer(_reducer(n) @ rows)))
    return out


def side_hashes(luma: FloatArray, keeps: tuple[float, ...]) -> list[tuple[str, str]]:
    """PDQ of one-sided crops: `top{k}`/`bottom{k}` keep the top/bottom k of the rows (as
    `band_hashes`), `left{k}`/`right{k}` the left/right k of the columns (sharing the row pass)."""
    lum = _lum(luma)
    out = band_hashes(lum, keeps)
    h, w = lum.shape
    if w < 16 or h < 1:
        return out
    with _one_blas_thread():
        rows = _reducer(h) @ lum  # 64 x w: the row pass is shared by every side crop
        for keep in keeps:
            n = round(w * keep)
            if not 0 < n < w:
                continue
            tag = round(keep * 100)
            for name, cols in ((f"left{tag}", rows[:, :n]), (f"right{tag}", rows[:, w - n :])):
                out.append((name, _hash_of_buffer(np.ascontiguousarray(cols @ _reducer(n).T))))
    return out


def centre_crop(luma: FloatArray, keep: float) -> FloatArray:
    h, w = luma.shape[:2]
    dh, dw = int(h * (1 - keep) / 2), int(w * (1 - keep) / 2)
    return luma[dh : h - dh, dw : w - dw]


def centre_hashes(luma: FloatArray, keeps: tuple[float, ...], prefix: str = "crop") -> list[tuple[str, str]]:
    """PDQ of centred crops keeping each fraction of each side."""
    out = []
    for keep in keeps:
        c = centre_crop(luma, keep)
        if c.shape != luma.shape and min(c.shape) >= 16:
            out.append((f"{prefix}{round(keep * 100)}", pdq_from_luma(_lum(c))[0]))
    return out


def corner_hashes(luma: FloatArray, keeps: tuple[float, ...] = STANDARD_CORNER_KEEPS) -> list[tuple[str, str]]:
    """PDQ of crops keeping `keep` of each side, anchored at each of the four corners."""
    h, w = luma.shape
    out = []
    for keep in keeps:
        ch, cw = round(h * keep), round(w * keep)
        if min(ch, cw) < 16:
            continue
        tag = round(keep * 100)
        for name, (r, c) in {"tl": (0, 0), "tr": (0, w - cw), "bl": (h - ch, 0), "br": (h - ch, w - cw)}.items():
            out.append((f"corner{tag}_{name}", pdq_from_luma(_lum(luma[r : r + ch, c : c + cw]))[0]))
    return out


def rotate_luma(luma: FloatArray, degrees: float) -> FloatArray:
    """The image rotated counter-clockwise on the same canvas, corners black (bilinear)."""
    img = Image.fromarray(_lum(luma), mode="F")
    return np.asarray(img.rotate(degrees, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=0.0))


def upright_crop(luma: FloatArray, degrees: float) -> FloatArray:
    """The largest centred rectangle of the original's aspect inside the image rotated by `degrees`."""
    h, w = luma.shape
    a = abs(np.radians(degrees))
    zoom = np.cos(a) + np.sin(a) * max(w / h, h / w)
    return centre_crop(luma, 1 / zoom)


def rotation_hashes(luma: FloatArray, angles: tuple[float, ...] = ROTATIONS) -> list[tuple[str, str]]:
    """PDQ of small rotations: `rot{deg}` with black corners, `rot{deg}_fill` straightened."""
    out = []
    for deg in angles:
        r = rotate_luma(luma, deg)
        tag = f"{deg:+g}"
        out.append((f"rot{tag}", pdq_from_luma(r)[0]))
        inner = upright_crop(r, deg)
        if min(inner.shape) >= 16:
            out.append((f"rot{tag}_fill", pdq_from_luma(_lum(inner))[0]))
    return out


def query_subregions(
    luma: FloatArray,
    band_keeps: tuple[float, ...] = BAND_KEEPS,
    centre_keeps: tuple[float, ...] = QUERY_CENTRE_KEEPS,
    cols: FloatArray | None = None,
) -> list[tuple[str, str]]:
    """The sub-region PDQ hashes an upload is also looked up with (bands, then centre crops);
    `cols` as in `band_hashes`."""
    return band_hashes(luma, band_keeps, cols) + centre_hashes(luma, centre_keeps, prefix="centre")


def bank_robust_variants(luma: FloatArray, level: Robustness | str = Robustness.standard) -> list[tuple[str, str]]:
    """The sub-region and rotation variants banked with an entry at a robustness level (the
    centre crops and trimmed image of `standard` come from `haven.signals.image.banked_variants`)."""
    level = Robustness(level)
    if level is Robustness.off:
        return []
    out = band_hashes(luma) + side_hashes(luma, STANDARD_SIDE_KEEPS) + corner_hashes(luma, STANDARD_CORNER_KEEPS)
    if level is Robustness.strong:
        out += centre_hashes(luma, STRONG_CROPS) + side_hashes(luma, STRONG_SIDE_KEEPS)
        out += corner_hashes(luma, STRONG_CORNER_KEEPS) + rotation_hashes(luma)
    return _unique(out)


def _unique(variants: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    return [(n, h) for n, h in variants if not (n in seen or seen.add(n))]  # type: ignore[func-returns-value]


def _tags(keeps: tuple[float, ...]) -> list[str]:
    return [str(round(k * 100)) for k in keeps]


#: Names of the variants a `standard` bank keeps; any other name is a `strong` variant.
STANDARD_NAMES = frozenset(
    ["trimmed"]
    + [f"crop{t}" for t in _tags(STANDARD_CROPS)]
    + [f"{side}{t}" for t in _tags(BAND_KEEPS) for side in ("top", "bottom")]
    + [f"{side}{t}" for t in _tags(STANDARD_SIDE_KEEPS) for side in ("top", "bottom", "left", "right")]
    + [f"corner{t}_{c}" for t in _tags(STANDARD_CORNER_KEEPS) for c in ("tl", "tr", "bl", "br")]
)


def variant_level(name: str) -> Robustness:
    """The lowest robustness level whose banks keep a variant of this name."""
    return Robustness.standard if name in STANDARD_NAMES else Robustness.strong


def keep_for_level(variants: list[tuple[str, str]], level: Robustness | str) -> list[tuple[str, str]]:
    """The banked variants a bank at `level` keeps (all of them at `strong`, none at `off`)."""
    order = list(Robustness)
    rank = order.index(Robustness(level))
    return [(n, h) for n, h in variants if rank > 0 and order.index(variant_level(n)) <= rank]


__all__ = [
    "BAND_KEEPS",
    "QUERY_CENTRE_KEEPS",
    "STANDARD_NAMES",
    "Robustness",
    "band_hashes",
    "bank_robust_variants",
    "centre_hashes",
    "corner_hashes",
    "keep_for_level",
    "query_subregions",
    "rotation_hashes",
    "variant_level",
]
