"""The perceptual-robustness evaluation set: real photographs that ship in installed packages,
the edits a copy goes through, and unrelated distractors (used by bench/robustness.py and
tests/signals/test_robust.py).

No image shows a person: scikit-image's `astronaut` and `camera`, matplotlib's `grace_hopper`
and scikit-image's `lfw_subset` (faces) are deliberately left out.

Photographs: 13 are *banked* (the stand-ins for known material), split into two folds. Each
fold is evaluated against its own distractors, cut only from photographs **not banked in that
fold** (the other fold's photographs, plus sources that are never banked), so no distractor
shares content with a banked image. The distractors are whole photographs and tiles of distinct
regions: the four halves, and grid cells of 1/2, 1/3, 1/4 and 1/5 of each side (cells of one grid do
not overlap; cells under 96 px on the shorter side are skipped), each uploaded as a JPEG (quality 85).

Limits (also in docs/signals.md): every distractor comes from about 20 source photographs, so
they are far less varied than a service's uploads; tiles of one photograph resemble each other
(which makes them harder, not easier, to keep apart from a banked image of the same kind of
scene: the two folds put look-alikes such as `hubble_deep_field`/`moon` or `ihc`/`cell` on
opposite sides). Several sources are textures or greyscale scientific images.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont
from skimage import data as skdata

#: Banked photographs, by fold. Look-alike pairs are put in opposite folds on purpose.
FOLDS: dict[str, tuple[str, ...]] = {
    "A": ("coffee", "rocket", "hubble_deep_field", "text", "motorcycle_left", "cell", "flower"),
    "B": ("chelsea", "coins", "moon", "retina", "immunohistochemistry", "china"),
}
BANKED = FOLDS["A"] + FOLDS["B"]
#: Never banked, only cut into distractors (for both folds). `motorcycle_right` is the other
#: half of the motorcycle stereo pair: the same scene, so it is a distractor only in fold B,
#: where `motorcycle_left` is not banked.
NEVER_BANKED = ("brick", "grass", "gravel", "page", "clock", "jacksboro_dem")
FOLD_ONLY_DISTRACTOR = {"B": ("motorcycle_right",)}


def _u8(arr: np.ndarray) -> np.ndarray:
    if arr.dtype != np.uint8:
        arr = (arr * 255).clip(0, 255).astype(np.uint8) if arr.max() <= 1 else arr.clip(0, 255).astype(np.uint8)
    return arr


def _hillshade() -> np.ndarray:
    """matplotlib's Jacksboro fault digital elevation model (real terrain), shaded as a relief."""
    import matplotlib
    from matplotlib.colors import LightSource

    path = Path(matplotlib.get_data_path()) / "sample_data" / "jacksboro_fault_dem.npz"
    with np.load(path) as dem:
        z = dem["elevation"].astype(np.float64)
    shade = LightSource(azdeg=315, altdeg=45).hillshade(z, vert_exag=0.05, dx=10, dy=10)
    return np.asarray(shade * 255, dtype=np.uint8)


@functools.cache
def photo(name: str) -> Image.Image:
    """One source photograph as RGB."""
    if name == "motorcycle_left":
        arr = skdata.stereo_motorcycle()[0]
    elif name == "motorcycle_right":
        arr = skdata.stereo_motorcycle()[1]
    elif name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        arr = load_sample_image(f"{name}.jpg")
    elif name == "jacksboro_dem":
        arr = _hillshade()
    else:
        arr = getattr(skdata, name)()
    return Image.fromarray(_u8(np.asarray(arr))).convert("RGB")


def encode(img: Image.Image, fmt: str = "JPEG", **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def banked_bytes(name: str) -> bytes:
    """What Haven banks: the lossless original."""
    return encode(photo(name), "PNG")


def _tiles(img: Image.Image, min_side: int = 96) -> list[tuple[str, Image.Image]]:
    w, h = img.size
    out = [("whole", img)]
    halves = {"left": (0, 0, w // 2, h), "right": (w - w // 2, 0, w, h), "top": (0, 0, w, h // 2)}
    halves["bottom"] = (0, h - h // 2, w, h)
    out += [(f"half_{k}", img.crop(box)) for k, box in halves.items()]
    for k in (2, 3, 4, 5):
        tw, th = img.width // k, img.height // k
        if min(tw, th) < min_side:
            continue
        for r in range(k):
            for c in range(k):
                out.append((f"{k}x{k}_{r}{c}", img.crop((c * tw, r * th, (c + 1) * tw, (r + 1) * th))))
    return out


def distractor_sources(fold: str) -> tuple[str, ...]:
    other = tuple(n for f, names in FOLDS.items() if f != fold for n in names)
    return other + NEVER_BANKED + FOLD_ONLY_DISTRACTOR.get(fold, ())


def distractors(fold: str) -> list[tuple[str, bytes]]:
    """(label, JPEG bytes) of every unrelated image for one fold."""
    out = []
    for src in distractor_sources(fold):
        for label, tile in _tiles(photo(src)):
            out.append((f"{src}/{label}", encode(tile, "JPEG", quality=85)))
    return out


# -- the edits ----------------------------------------------------------------------------------


def _jpeg(img: Image.Image, quality: int = 90) -> bytes:
    return encode(img.convert("RGB") if img.mode not in ("RGB", "L") else img, "JPEG", quality=quality)


def _scale(img: Image.Image, factor: float) -> Image.Image:
    return img.resize((max(1, round(img.width * factor)), max(1, round(img.height * factor))), Image.LANCZOS)


def _thumb(img: Image.Image, side: int) -> Image.Image:
    out = img.copy()
    out.thumbnail((side, side), Image.LANCZOS)
    return out


def _crop(img: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = img.size
    return img.crop((round(w * left), round(h * top), w - round(w * right), h - round(h * bottom)))


def _pad_uniform(img: Image.Image, fraction: float, colour: tuple[int, int, int]) -> Image.Image:
    dx, dy = round(img.width * fraction), round(img.height * fraction)
    out = Image.new("RGB", (img.width + 2 * dx, img.height + 2 * dy), colour)
    out.paste(img, (dx, dy))
    return out


def _pad_blurred(img: Image.Image, fraction: float) -> Image.Image:
    """The picture on a blurred, enlarged copy of itself (the "fit to square" look of many apps)."""
    dx, dy = round(img.width * fraction), round(img.height * fraction)
    size = (img.width + 2 * dx, img.height + 2 * dy)
    out = img.resize(size, Image.BILINEAR).filter(ImageFilter.GaussianBlur(max(4, size[0] // 40)))
    out.paste(img, (dx, dy))
    return out


def _rotate(img: Image.Image, degrees: float) -> Image.Image:
    """Rotated on the same canvas, corners filled black (a tilted scan or screenshot)."""
    return img.rotate(degrees, resample=Image.BICUBIC, expand=False, fillcolor=(0, 0, 0))


def _straighten(img: Image.Image, degrees: float) -> Image.Image:
    """Rotated and zoomed in to fill the canvas (a photo editor's "straighten")."""
    w, h = img.size
    a = abs(np.radians(degrees))
    zoom = np.cos(a) + np.sin(a) * max(w / h, h / w)
    rotated = img.rotate(degrees, resample=Image.BICUBIC, expand=False)
    cw, ch = w / zoom, h / zoom
    box = ((w - cw) / 2, (h - ch) / 2, (w + cw) / 2, (h + ch) / 2)
    return rotated.crop(tuple(round(v) for v in box)).resize((w, h), Image.LANCZOS)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _caption_bar(img: Image.Image, fraction: float, top: bool, bar: tuple[int, int, int]) -> Image.Image:
    """An opaque bar across the full width with a line of text in it, *over* the picture."""
    out = img.copy()
    w, h = out.size
    bh = max(8, round(h * fraction))
    y0 = 0 if top else h - bh
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, y0, w, y0 + bh), fill=bar)
    ink = (0, 0, 0) if sum(bar) > 380 else (255, 255, 255)
    draw.text((w * 0.04, y0 + bh * 0.2), "when you see it lol #2026", fill=ink, font=_font(max(8, int(bh * 0.55))))
    return out


def _caption_text(img: Image.Image, lines: int = 16) -> Image.Image:
    """White outlined text near the bottom, no bar (as tests/helpers.TRANSFORMS' text_overlay)."""
    out = img.copy()
    size = max(12, img.height // lines)
    ImageDraw.Draw(out).text(
        (img.width * 0.05, img.height * 0.75),
        "@someone lol 2026",
        fill=(255, 255, 255),
        font=_font(size),
        stroke_width=max(1, size // 12),
        stroke_fill=(0, 0, 0),
    )
    return out


def _watermark_strip(img: Image.Image) -> Image.Image:
    """A half-transparent white band (12% of the height) with a site name, across the middle."""
    base = img.convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    h = base.height
    y0, bh = round(h * 0.44), max(8, round(h * 0.12))
    draw.rectangle((0, y0, base.width, y0 + bh), fill=(255, 255, 255, 140))
    draw.text((base.width * 0.3, y0 + bh * 0.2), "example.site", fill=(0, 0, 0, 200), font=_font(max(8, int(bh * 0.6))))
    return Image.alpha_composite(base, layer).convert("RGB")


def _sticker(img: Image.Image) -> Image.Image:
    """An opaque yellow disc (a quarter of the shorter side) in the lower right."""
    out = img.copy()
    d = min(out.size) // 4
    x0, y0 = out.width - d - out.width // 20, out.height - d - out.height // 20
    ImageDraw.Draw(out).ellipse((x0, y0, x0 + d, y0 + d), fill=(255, 210, 0), outline=(0, 0, 0), width=max(1, d // 20))
    return out


Transform = Callable[[Image.Image], bytes]

#: The standard edits of issue 10 (target: >= 99% recall). Re-encoded as JPEG q90 unless named.
STANDARD: dict[str, Transform] = {
    "resize_half": lambda im: _jpeg(_scale(im, 0.5)),
    "resize_double": lambda im: _jpeg(_scale(im, 2.0)),
    "resize_075": lambda im: _jpeg(_scale(im, 0.75)),
    "jpeg_q20": lambda im: _jpeg(im, 20),
    "greyscale": lambda im: _jpeg(im.convert("L")),
    "rot90": lambda im: _jpeg(im.transpose(Image.Transpose.ROTATE_90)),
    "rot180": lambda im: _jpeg(im.transpose(Image.Transpose.ROTATE_180)),
    "rot270": lambda im: _jpeg(im.transpose(Image.Transpose.ROTATE_270)),
    "mirror": lambda im: _jpeg(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
    "crop5": lambda im: _jpeg(_crop(im, 0.05, 0.05, 0.05, 0.05)),
    "crop5_one_side": lambda im: _jpeg(_crop(im, 0.0, 0.0, 0.05, 0.0)),
    "crop5_one_corner": lambda im: _jpeg(_crop(im, 0.05, 0.05, 0.0, 0.0)),
    "brighter": lambda im: _jpeg(ImageEnhance.Brightness(im).enhance(1.25)),
    "darker": lambda im: _jpeg(ImageEnhance.Brightness(im).enhance(0.75)),
    "contrast_up": lambda im: _jpeg(ImageEnhance.Contrast(im).enhance(1.5)),
    "contrast_down": lambda im: _jpeg(ImageEnhance.Contrast(im).enhance(0.6)),
    "blur": lambda im: _jpeg(im.filter(ImageFilter.GaussianBlur(2))),
    "png": lambda im: encode(im, "PNG"),
    "webp": lambda im: encode(im, "WEBP", quality=75),
    "caption_bar_bottom": lambda im: _jpeg(_caption_bar(im, 0.12, top=False, bar=(0, 0, 0))),
    "caption_bar_top": lambda im: _jpeg(_caption_bar(im, 0.15, top=True, bar=(255, 255, 255))),
}

#: The hard edits of issue 10 (target: >= 80% recall).
HARD: dict[str, Transform] = {
    "rotate_+2": lambda im: _jpeg(_rotate(im, 2)),
    "rotate_-3": lambda im: _jpeg(_rotate(im, -3)),
    "rotate_+5": lambda im: _jpeg(_rotate(im, 5)),
    "straighten_-4": lambda im: _jpeg(_straighten(im, -4)),
    "pad15_white": lambda im: _jpeg(_pad_uniform(im, 0.15, (255, 255, 255))),
    "pad15_blurred": lambda im: _jpeg(_pad_blurred(im, 0.15)),
    "crop15_centred": lambda im: _jpeg(_crop(im, 0.075, 0.075, 0.075, 0.075)),
    "crop15_per_side": lambda im: _jpeg(_crop(im, 0.15, 0.15, 0.15, 0.15)),
    "crop15_one_side": lambda im: _jpeg(_crop(im, 0.0, 0.0, 0.15, 0.0)),
    "crop15_one_corner": lambda im: _jpeg(_crop(im, 0.15, 0.15, 0.0, 0.0)),
    "thumb64": lambda im: _jpeg(_thumb(im, 64)),
    "saturation_x3": lambda im: _jpeg(ImageEnhance.Color(im).enhance(3.0)),
}

#: Overlays that cover part of the picture without a full-width bar: measured, no target.
OVERLAYS: dict[str, Transform] = {
    "caption_text": lambda im: _jpeg(_caption_text(im)),
    "watermark_strip": lambda im: _jpeg(_watermark_strip(im)),
    "sticker": lambda im: _jpeg(_sticker(im)),
    "caption_bar_bottom_20": lambda im: _jpeg(_caption_bar(im, 0.20, top=False, bar=(0, 0, 0))),
}

#: Beyond the targets: a larger tilt than the banked rotations, and edits combined: measured, no target.
BEYOND: dict[str, Transform] = {
    "rotate_+8": lambda im: _jpeg(_rotate(im, 8)),
    "mirror_then_caption_bar": lambda im: _jpeg(
        _caption_bar(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 0.12, top=False, bar=(0, 0, 0))
    ),
    "rot90_then_crop15_one_side": lambda im: _jpeg(_crop(im.transpose(Image.Transpose.ROTATE_90), 0, 0, 0.15, 0)),
    "half_crop5_one_side_q40": lambda im: _jpeg(_crop(_scale(im, 0.5), 0, 0, 0.05, 0), 40),
    "rotate_-3_caption_bar": lambda im: _jpeg(_caption_bar(_rotate(im, -3), 0.12, top=False, bar=(0, 0, 0))),
}

FAMILIES: dict[str, dict[str, Transform]] = {"standard": STANDARD, "hard": HARD, "overlay": OVERLAYS, "beyond": BEYOND}
