"""Benign test media: scikit-image's sample photographs and Haven's generated pictures."""

from __future__ import annotations

import io
from collections.abc import Callable

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


#: More scikit-image photographs, used by the robustness tests and bench/robustness.py.
EXTRA_SAMPLE_NAMES = ("immunohistochemistry", "cell", "clock")

#: Sample images not banked in the robustness tests, and why. They still serve as unrelated
#: images that must never match. PDQ's quality metric rates the textures and the page 100, so
#: the quality gate (settings.pdq_min_quality) does not catch them; their fragility is aliasing
#: of fine periodic detail in PDQ's 64x64 sampling: halving or cropping 3% moves their hash
#: 26-60 bits (bench/robustness.py prints the distances). The clock is caught by the gate.
NOT_BANKED = {
    "brick": "periodic texture: resampling aliases in PDQ's 64x64 grid (half size: 58 bits)",
    "grass": "periodic texture: resampling aliases in PDQ's 64x64 grid (crop 3%: 30 bits)",
    "gravel": "periodic texture: resampling aliases in PDQ's 64x64 grid (crop 3%: 28 bits)",
    "page": "scanned text page: lines of text alias like a texture (half size: 58 bits)",
    "clock": "low quality: PDQ quality under 50 for most of its copies, so its matches are not trusted",
}

#: The images banked (and transformed) by the robustness tests.
ROBUSTNESS_NAMES = tuple(n for n in SAMPLE_NAMES + EXTRA_SAMPLE_NAMES if n not in NOT_BANKED)


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


# -- transformed copies, for the robustness tests and bench/robustness.py -------------------------


def _scale(img: Image.Image, factor: float) -> Image.Image:
    return img.resize((max(1, round(img.width * factor)), max(1, round(img.height * factor))), Image.LANCZOS)


def _crop(img: Image.Image, fraction: float) -> Image.Image:
    dx, dy = round(img.width * fraction), round(img.height * fraction)
    return img.crop((dx, dy, img.width - dx, img.height - dy))


def _pad(img: Image.Image, top: float, side: float, colour: tuple[int, int, int]) -> Image.Image:
    dy, dx = round(img.height * top), round(img.width * side)
    out = Image.new("RGB", (img.width + 2 * dx, img.height + 2 * dy), colour)
    out.paste(img, (dx, dy))
    return out


def _text(img: Image.Image, lines: int = 16) -> Image.Image:
    """A white caption with a black outline, 1/`lines` of the image height, near the bottom."""
    from PIL import ImageDraw, ImageFont

    out = img.copy()
    size = max(12, img.height // lines)
    draw = ImageDraw.Draw(out)
    font = ImageFont.load_default(size=size)
    draw.text(
        (img.width * 0.05, img.height * 0.75),
        "@someone lol 2026",
        fill=(255, 255, 255),
        font=font,
        stroke_width=max(1, size // 12),
        stroke_fill=(0, 0, 0),
    )
    return out


def _brightness(img: Image.Image, factor: float) -> Image.Image:
    from PIL import ImageEnhance

    return ImageEnhance.Brightness(img).enhance(factor)


def _jpeg(img: Image.Image, quality: int = 90) -> bytes:
    return encode(img, "JPEG", quality=quality)


#: The transformation set of issue 2 point 10 (each re-encoded as a JPEG, the way copies travel),
#: plus letterboxing and padding, which must match through the trimmed-borders query variant.
TRANSFORMS: dict[str, Callable[[Image.Image], bytes]] = {
    "half": lambda im: _jpeg(_scale(im, 0.5)),
    "double": lambda im: _jpeg(_scale(im, 2.0)),
    "jpeg_q30": lambda im: _jpeg(im, 30),
    "greyscale": lambda im: _jpeg(im.convert("L")),
    "rot90": lambda im: _jpeg(im.transpose(Image.Transpose.ROTATE_90)),
    "mirror": lambda im: _jpeg(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
    "crop3": lambda im: _jpeg(_crop(im, 0.03)),
    "brighter20": lambda im: _jpeg(_brightness(im, 1.2)),
    "darker20": lambda im: _jpeg(_brightness(im, 0.8)),
    "text_overlay": lambda im: _jpeg(_text(im)),
    "letterbox": lambda im: _jpeg(_pad(im, 0.15, 0.0, (0, 0, 0))),
    "pillarbox": lambda im: _jpeg(_pad(im, 0.0, 0.2, (0, 0, 0))),
    "padding_white": lambda im: _jpeg(_pad(im, 0.08, 0.08, (255, 255, 255))),
}

#: Harder transformations measured by bench/robustness.py but not required to match.
EXTRA_TRANSFORMS: dict[str, Callable[[Image.Image], bytes]] = {
    "crop5": lambda im: _jpeg(_crop(im, 0.05)),
    "crop8": lambda im: _jpeg(_crop(im, 0.08)),
    "crop10": lambda im: _jpeg(_crop(im, 0.10)),
    "text_overlay_large": lambda im: _jpeg(_text(im, 10)),
    "rot90_crop5": lambda im: _jpeg(_crop(im.transpose(Image.Transpose.ROTATE_90), 0.05)),
    "mirror_letterbox": lambda im: _jpeg(_pad(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 0.15, 0.0, (0, 0, 0))),
    "quarter": lambda im: _jpeg(_scale(im, 0.25)),
    "jpeg_q10": lambda im: _jpeg(im, 10),
}
