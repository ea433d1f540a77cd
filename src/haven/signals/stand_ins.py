"""Benign stand-in pictures for demos, tests and benchmarks: generated, deterministic, with enough
structure for a high-quality PDQ hash. Haven never uses real abuse material; these pictures are
banked *as if* they were known material."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def synthetic_picture(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A deterministic benign picture with enough structure for a high-quality PDQ hash."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    base = (
        np.stack(
            [
                (np.sin(x / rng.uniform(20, 90) + rng.uniform(0, 6)) * 60 + 128 + rng.uniform(-40, 40)),
                (np.cos(y / rng.uniform(20, 90) + rng.uniform(0, 6)) * 60 + 128 + rng.uniform(-40, 40)),
                ((x + y) / (w + h) * 200 + rng.uniform(0, 55)),
            ],
            axis=2,
        )
        .clip(0, 255)
        .astype(np.uint8)
    )
    img = Image.fromarray(base, "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(6, 14))):
        x0, y0 = int(rng.integers(0, w - 40)), int(rng.integers(0, h - 40))
        x1, y1 = x0 + int(rng.integers(30, w // 2)), y0 + int(rng.integers(30, h // 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        else:
            draw.rectangle([x0, y0, x1, y1], fill=colour)
    return img.filter(ImageFilter.GaussianBlur(1.2))
