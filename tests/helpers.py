"""Benign test media: scikit-image's sample photographs and Haven's generated pictures."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from skimage import data as skdata

#: scikit-image sample photographs (public domain / CC0) used as stand-ins for banked material.
SAMPLE_NAMES = (
    "astronaut",
    "camera",
    "coffee",
    "chelsea",
    "rocket",
    "hubble_deep_field",
    "coins",
    "brick",
    "grass",
    "gravel",
    "moon",
    "page",
    "text",
    "horse",
    "retina",
    "motorcycle_left",
)


def sample(name: str) -> Image.Image:
    arr = skdata.stereo_motorcycle()[0] if name == "motorcycle_left" else getattr(skdata, name)()
    if arr.dtype != np.uint8:
        arr = (arr * 255).clip(0, 255).astype(np.uint8) if arr.max() <= 1 else arr.astype(np.uint8)
    img = Image.fromarray(arr)
    return img.convert("RGB")


def encode(img: Image.Image, fmt: str = "JPEG", **kw: object) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG" and img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    img.save(buf, fmt, **kw)
    return buf.getvalue()
