"""Decode + PDQ throughput on one core, Haven against threatexchange, and the fast path's fidelity.

Speed cases: a 1024x768 JPEG and a 12 MP (4032x3024) JPEG, both made from a scikit-image
sample photograph (q90). Contenders, interleaved round by round so machine noise hits all alike:

  haven           haven.signals.image.decode_luma + pdq_from_luma (decode + PDQ)
  haven_intake    haven.signals.image.hash_image: MD5/SHA-1/SHA-256, 8 exact flips/rotations,
                  trimmed-border check: everything intake computes for an image
  pillow_pdqhash  Pillow full decode + pdqhash.compute (Meta's reference through its Python wrapper)
  pytx            threatexchange PdqSignal.hash_from_bytes (what HMA runs)

Fidelity: over the sample images (tests/helpers.SAMPLE_NAMES) re-encoded as JPEG q90 at their
own size, at 1024 px on the long side and at 12 MP, the bit difference between Haven's hash and
the reference hash of a full RGB decode (pillow_pdqhash), and, for scale, how far Meta's C++
pdq-photo-hasher's own downsampling (nearest-neighbour to 512x512 when larger) moves the hash.

Decode paths: decode-only speed and fidelity of Pillow (full, draft), simplejpeg RGB (full,
DCT-scaled) and simplejpeg Y-channel (full, DCT-scaled to >= 1024 or 512 px): the measurement
behind haven.signals.image.JPEG_HASH_MIN_SIDE.

Runs on one core: pinned to CPU 0 (like `taskset -c 0`) with one BLAS thread.

    .venv/bin/python bench/hash.py [--rounds 5] [--seconds 0.6]

Ends with `RESULT {json}`: case -> contender -> numbers.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import io
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers import SAMPLE_NAMES, sample

from haven.signals.image import decode_luma, hash_image
from haven.signals.pdq import bits_to_hex, hamming, pdq_from_array, pdq_from_luma


def jpeg_of(img: Image.Image, size: tuple[int, int] | None, quality: int = 90) -> bytes:
    if size is not None:
        w, h = size
        if img.width < img.height:
            w, h = h, w
        img = img.resize((w, h), Image.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def haven(data: bytes) -> str:
    return pdq_from_luma(decode_luma(data).luma)[0]


def haven_intake(data: bytes) -> str:
    return hash_image(data).pdq


def pillow_pdqhash(data: bytes) -> str:
    arr = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    return bits_to_hex(pdqhash.compute(arr)[0])


def cpp_style(data: bytes) -> str:
    """pdq-photo-hasher's loader: images over 512 px are resized (nearest) to 512x512 first."""
    img = Image.open(io.BytesIO(data)).convert("RGB")
    if img.width > 512 or img.height > 512:
        img = img.resize((512, 512), Image.NEAREST)
    return bits_to_hex(pdqhash.compute(np.asarray(img))[0])


def _pillow_draft(data: bytes, min_side: int) -> np.ndarray:
    img = Image.open(io.BytesIO(data))
    w, h = img.size
    if min(w, h) > min_side:
        img.draft("RGB", (w * min_side // min(w, h), h * min_side // min(w, h)))
    return np.asarray(img.convert("RGB"))


def _sj(data: bytes, colourspace: str, min_side: int) -> np.ndarray:
    import simplejpeg

    arr = simplejpeg.decode_jpeg(data, colorspace=colourspace, min_height=min_side, min_width=min_side)
    return arr[:, :, 0] if colourspace == "GRAY" else arr


#: JPEG decode paths compared for the choice in haven.signals.image (decode only, then Haven's PDQ).
DECODERS: dict[str, Callable[[bytes], np.ndarray]] = {
    "pillow_full_rgb": lambda d: np.asarray(Image.open(io.BytesIO(d)).convert("RGB")),
    "pillow_draft_512": lambda d: _pillow_draft(d, 512),
    "simplejpeg_rgb_full": lambda d: _sj(d, "RGB", 0),
    "simplejpeg_rgb_512": lambda d: _sj(d, "RGB", 512),
    "simplejpeg_y_full": lambda d: _sj(d, "GRAY", 0),
    "simplejpeg_y_1024 (chosen)": lambda d: _sj(d, "GRAY", 1024),
    "simplejpeg_y_512": lambda d: _sj(d, "GRAY", 512),
}


def compare_decoders(result: dict[str, dict[str, dict[str, float]]], rounds: int, seconds: float) -> None:
    print("\nJPEG decode paths: decode-only images/s on one core, and bits of Haven's PDQ of the result")
    print("from the full-decode reference, over the sample images at three sizes")
    for label, size in (("native", None), ("1024", (1024, 768)), ("12mp", (4032, 3024))):
        datas = [jpeg_of(sample(n), size) for n in SAMPLE_NAMES]
        refs = [pillow_pdqhash(d) for d in datas]
        case = f"decode-{label}"
        result[case] = {}
        speeds: dict[str, list[float]] = {name: [] for name in DECODERS}
        for _ in range(rounds):  # interleaved, so machine noise hits every decoder alike
            for name, dec in DECODERS.items():
                speeds[name].append(len(datas) / _time_all(dec, datas, seconds))
        for name, dec in DECODERS.items():
            diffs = [hamming(pdq_from_array(dec(d))[0], r) for d, r in zip(datas, refs, strict=True)]
            speed = statistics.median(speeds[name])
            key = name.split(" ")[0]
            result[case][key] = {
                "decode_images_per_s": round(speed, 1),
                "mean_bits": round(float(np.mean(diffs)), 2),
                "max_bits": int(max(diffs)),
            }
            print(f"  {label:7s} {name:27s} {speed:8.1f}/s  mean {np.mean(diffs):5.2f}  max {max(diffs):3d}")


def _time_all(dec: Callable[[bytes], np.ndarray], datas: list[bytes], seconds: float) -> float:
    """Seconds per pass over `datas` (repeated until `seconds` have passed)."""
    n, t0 = 0, time.perf_counter()
    while True:
        for d in datas:
            dec(d)
        n += 1
        el = time.perf_counter() - t0
        if el >= seconds:
            return el / n


def contenders() -> dict[str, Callable[[bytes], str]]:
    out: dict[str, Callable[[bytes], str]] = {
        "haven": haven,
        "haven_intake": haven_intake,
        "pillow_pdqhash": pillow_pdqhash,
    }
    try:
        from threatexchange.signal_type.pdq.signal import PdqSignal

        out["pytx"] = PdqSignal.hash_from_bytes
    except ImportError:
        print("threatexchange not installed (pip install -e '.[bench]'): skipping pytx")
    return out


def rate(fn: Callable[[bytes], str], data: bytes, seconds: float) -> float:
    """Images per second over at least `seconds` (and at least 2 calls)."""
    n, t0 = 0, time.perf_counter()
    while True:
        fn(data)
        n += 1
        el = time.perf_counter() - t0
        if el >= seconds and n >= 2:
            return n / el


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=0.6, help="per contender per round")
    ap.add_argument("--photo", default="chelsea")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    result: dict[str, dict[str, dict[str, float]]] = {}
    fns = contenders()
    photo = sample(args.photo)
    for case, size in (("jpeg-1024x768", (1024, 768)), ("jpeg-12mp-4032x3024", (4032, 3024))):
        data = jpeg_of(photo, size)
        for fn in fns.values():
            fn(data)  # warm caches
        seconds = args.seconds * (4 if "12mp" in case else 1)
        rates: dict[str, list[float]] = {name: [] for name in fns}
        for _ in range(args.rounds):
            for name, fn in fns.items():
                rates[name].append(rate(fn, data, seconds))
        ref = statistics.median(rates["pytx"]) if "pytx" in rates else statistics.median(rates["pillow_pdqhash"])
        print(f"\n{case}: {len(data) // 1024} KB, {args.rounds} rounds, images/s on one core (median [min-max])")
        result[case] = {}
        for name, rs in rates.items():
            med = statistics.median(rs)
            result[case][name] = {
                "images_per_s": round(med, 2),
                "ms_per_image": round(1000 / med, 3),
                "speedup_vs_pytx": round(med / ref, 2),
            }
            print(f"  {name:15s} {med:8.1f}  [{min(rs):.1f}-{max(rs):.1f}]  {1000 / med:7.2f} ms  x{med / ref:.1f}")
        same = {name: hamming(fn(data), pillow_pdqhash(data)) for name, fn in fns.items() if name != "pytx"}
        print(f"  bits from the full-decode reference on this image: {same}")

    print("\nfidelity over the sample images: bits from the full RGB decode + pdqhash reference")
    for label, size in (("native", None), ("1024", (1024, 768)), ("12mp", (4032, 3024))):
        datas = [jpeg_of(sample(n), size) for n in SAMPLE_NAMES]
        refs = [pillow_pdqhash(d) for d in datas]
        rows = {"haven": [hamming(haven(d), r) for d, r in zip(datas, refs, strict=True)]}
        if "pytx" in fns:
            rows["pytx"] = [hamming(fns["pytx"](d) or r, r) for d, r in zip(datas, refs, strict=True)]
        rows["meta_cpp_512_nearest"] = [hamming(cpp_style(d), r) for d, r in zip(datas, refs, strict=True)]
        case = f"fidelity-{label}"
        result[case] = {}
        for name, diffs in rows.items():
            result[case][name] = {"mean_bits": round(float(np.mean(diffs)), 2), "max_bits": int(max(diffs))}
            print(f"  {label:7s} {name:22s} mean {np.mean(diffs):5.2f}  max {max(diffs):3d}  {diffs}")
    compare_decoders(result, args.rounds, args.seconds)
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
