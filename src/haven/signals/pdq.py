"""PDQ hashes and their hex form.

The hex form is the one NCMEC, StopNCII and ThreatExchange exchange: 64 hex digits, the first
bit of the hash vector as the most significant bit.

Why not call `pdqhash` (the Cython wrapper of Meta's C++ reference) directly: it converts the
image to luma in float64 numpy, then runs the Jarosz box filters over every pixel with strided
column passes, which costs ~50 ms for a 1024x768 image and over a second for 12 MP, far more
than decoding. PDQ is linear up to its 64x64 buffer, and that buffer only samples 64 rows and 64
columns of the filtered image, so the whole filter + decimation step is two small matrix
products: ``B64 = R_rows @ luma @ R_cols.T`` with ``R = select64(box @ box)`` built once per side
length. The rest (16x16 DCT, median threshold, quality metric) follows Meta's
`pdqhashing.cpp` line by line. `tests/signals/test_pdq.py` checks bit-for-bit equality with
`pdqhash` (hash and quality, all eight dihedral variants) over the sample images at several
sizes; `bench/hash.py` measures the speed.
"""

from __future__ import annotations

import contextlib
import functools
import re

import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")

#: Side of PDQ's intermediate buffer.
_BUF = 64

FloatArray = npt.NDArray[np.float32]

_threadpools: ThreadpoolController | None = None


def _one_blas_thread() -> contextlib.AbstractContextManager[object]:
    """The matrix products here are small: OpenBLAS threads cost far more than they save
    (on a loaded 2-core machine 10x more, measured), and the API already hashes uploads in
    parallel worker threads. Racing limits from two threads can at worst leave BLAS at one
    thread, which is what a server wants anyway."""
    global _threadpools
    if _threadpools is None:
        _threadpools = ThreadpoolController()
    limiter: contextlib.AbstractContextManager[object] = _threadpools.limit(limits=1, user_api="blas")
    return limiter


def is_valid_pdq(value: str) -> bool:
    return bool(_HEX64.match(value))


def bits_to_hex(bits: npt.NDArray[np.integer] | npt.NDArray[np.bool_]) -> str:
    return bytes(np.packbits(np.asarray(bits, dtype=np.uint8))).hex()


def hex_to_bits(value: str) -> npt.NDArray[np.uint8]:
    return np.unpackbits(np.frombuffer(bytes.fromhex(value), dtype=np.uint8))


def hamming(a: str, b: str) -> int:
    """Hamming distance of two hex PDQ hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _box_rows(n: int, window: int) -> list[tuple[int, int]]:
    """Meta's `box1DFloat` (downscaling.cpp): output i is the mean of inputs lo..hi inclusive,
    a window of `window` samples that shrinks at both ends."""
    half = (window + 2) // 2
    return [(max(0, i - (window - half)), min(n - 1, i + half - 1)) for i in range(n)]


@functools.lru_cache(maxsize=256)
def _reducer(n: int) -> FloatArray:
    """The 64 x n matrix of PDQ's two Jarosz box passes along one axis followed by its decimation."""
    window = (n + 2 * _BUF - 1) // (2 * _BUF)  # computeJaroszFilterWindowSize(n, 64)
    box = _box_rows(n, window)
    picks = ((np.arange(_BUF) + 0.5) * n / _BUF).astype(np.int64)  # decimateFloat
    out = np.zeros((_BUF, n), dtype=np.float64)
    for r, i in enumerate(picks):
        lo, hi = box[i]
        for k in range(lo, hi + 1):  # row i of box @ box = mean over k of row k of box
            klo, khi = box[k]
            out[r, klo : khi + 1] += 1.0 / ((hi - lo + 1) * (khi - klo + 1))
    return out.astype(np.float32)


@functools.lru_cache(maxsize=256)
def _reducer_flipped(n: int) -> FloatArray:
    """`_reducer(n)` for the image flipped along that axis (contiguous, so BLAS handles it)."""
    return np.ascontiguousarray(_reducer(n)[:, ::-1])


#: dct64To16: 16 x 64 matrix, frequencies 1..16 (the DC term is dropped).
_DCT = np.array(
    [[np.sqrt(2 / 64) * np.cos(np.pi / 2 / 64 * (i + 1) * (2 * j + 1)) for j in range(64)] for i in range(16)],
    dtype=np.float32,
)


def luma_from_rgb(rgb: npt.NDArray[np.uint8]) -> FloatArray:
    """PDQ's luma (BT.601 weights, as fillFloatLumaFromRGB) as float32; greyscale passes through.

    Channel by channel, so a 100-megapixel image needs two float32 planes, not a float RGB copy."""
    if rgb.ndim == 2:
        return rgb.astype(np.float32)
    luma = rgb[:, :, 0].astype(np.float32)
    luma *= np.float32(0.299)
    for channel, weight in ((1, 0.587), (2, 0.114)):
        plane = rgb[:, :, channel].astype(np.float32)
        plane *= np.float32(weight)
        luma += plane
    return luma


def buffer64(luma: FloatArray) -> FloatArray:
    """PDQ's 64x64 buffer: Jarosz-filtered (2 box passes per axis) and decimated luma."""
    h, w = luma.shape
    with _one_blas_thread():
        out: FloatArray = _reducer(h) @ (np.asarray(luma, dtype=np.float32) @ _reducer(w).T)
    return out


def quality_of(buf: FloatArray) -> int:
    """computePDQImageDomainQualityMetric: summed truncated gradients of the 64x64 buffer."""
    dv = np.trunc((buf[:-1, :] - buf[1:, :]) * 100 / 255)
    dh = np.trunc((buf[:, :-1] - buf[:, 1:]) * 100 / 255)
    return min(100, int(np.abs(dv).sum() + np.abs(dh).sum()) // 90)


@functools.lru_cache(maxsize=256)
def _reducer_both(n: int) -> FloatArray:
    """`_reducer(n)` stacked on `_reducer_flipped(n)` (128 x n): one product gives both passes."""
    return np.ascontiguousarray(np.vstack([_reducer(n), _reducer_flipped(n)]))


def _median256(values: npt.NDArray[np.floating]) -> float:
    """np.median of 256 values (the mean of the two middle ones) by one partition, not a sort."""
    part = np.partition(values.reshape(-1), (127, 128))
    return float((part[127] + part[128]) / 2)


def _hash_of_buffer(buf: FloatArray) -> str:
    coef = _DCT @ buf @ _DCT.T  # 16 x 16
    bits = coef > _median256(coef)
    # Bit k = row * 16 + col of the 16x16 matrix; the hex form starts with bit 255.
    return bits_to_hex(bits.reshape(-1)[::-1])


def pdq_from_luma(luma: FloatArray) -> tuple[str, int]:
    """PDQ hex and quality (0-100) of a float32 luma array."""
    buf = buffer64(luma)
    return _hash_of_buffer(buf), quality_of(buf)


def pdq_from_array(rgb: npt.NDArray[np.uint8]) -> tuple[str, int]:
    """PDQ hex and quality (0-100) of an RGB or greyscale uint8 array."""
    return pdq_from_luma(luma_from_rgb(rgb))


#: The eight dihedral variants, named (and ordered) as `pdqhash.compute_dihedral` returns them:
#: variant "rot90" is the hash of the image rotated 90 degrees counter-clockwise (np.rot90),
#: "mirror" of its left-right mirror, and so on.
DIHEDRAL = ("original", "rot90", "rot180", "rot270", "flip_ud", "mirror", "transpose", "antitranspose")
#: Each as (flip rows, flip columns, transpose afterwards) of the image.
_DIHEDRAL_OPS = {
    "original": (False, False, False),
    "rot90": (False, True, True),
    "rot180": (True, True, False),
    "rot270": (True, False, True),
    "flip_ud": (True, False, False),
    "mirror": (False, True, False),
    "transpose": (False, False, True),
    "antitranspose": (True, True, True),
}


def dihedral_from_luma(luma: FloatArray, *, exact: bool = True) -> tuple[list[tuple[str, str]], int]:
    """PDQ of the eight flips and rotations of one image: [(variant, hex)], quality.

    With `exact` (the default, for queries) each variant is the PDQ of the transformed image
    itself, so a rotated or mirrored copy of a banked image gets its original hash back. Meta's
    pdqDihedralHash256esFromFloatLuma (exact=False) instead flips the one 64x64 buffer, which
    is off by PDQ's sampling offset of (i + 0.5) * n / 64 moving a pixel under a flip: on
    textured images that alone costs 30+ bits (measured in bench/robustness.py). Transposing
    commutes with the separable filter, so the exact form needs only the four flips: two large
    matrix products instead of one.
    """
    variants, quality, _ = dihedral_with_columns(luma, exact=exact)
    return variants, quality


def dihedral_with_columns(
    luma: FloatArray, *, exact: bool = True
) -> tuple[list[tuple[str, str]], int, FloatArray | None]:
    """`dihedral_from_luma`, plus the image's column pass (`luma @ _reducer(w).T`, h x 64) that
    the sub-region hashes of `haven.signals.robust` reuse (None when `exact` is False).

    Exact form: both column passes (plain and flipped) are one h x w x 128 product, one read of
    the image instead of two, and the four 64x64 buffers one 128 x h x 128 product."""
    h, w = luma.shape
    lum = np.asarray(luma, dtype=np.float32)
    cols_plain: FloatArray | None = None
    if not exact:
        buf = buffer64(lum)
        bufs = {
            key: buf[:: -1 if key[0] else 1, :: -1 if key[1] else 1] for key in {(a, b) for a in (0, 1) for b in (0, 1)}
        }
    else:
        with _one_blas_thread():
            cols = lum @ _reducer_both(w).T  # h x 128: columns as stored, then flipped
            four = _reducer_both(h) @ cols  # 128 x 128: rows as stored / flipped x columns
        bufs = {(a, b): four[64 * a : 64 * a + 64, 64 * b : 64 * b + 64] for a in (0, 1) for b in (0, 1)}
        cols_plain = cols[:, :64]
    out = []
    for name in DIHEDRAL:
        fr, fc, tr = _DIHEDRAL_OPS[name]
        b = bufs[(int(fr), int(fc))]
        out.append((name, _hash_of_buffer(np.ascontiguousarray(b.T if tr else b))))
    return out, quality_of(np.ascontiguousarray(bufs[(0, 0)])), cols_plain


def dihedral_from_array(rgb: npt.NDArray[np.uint8], *, exact: bool = True) -> tuple[list[tuple[str, str]], int]:
    return dihedral_from_luma(luma_from_rgb(rgb), exact=exact)
