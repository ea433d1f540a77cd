"""Decoding images safely and fast, and the PDQ hashes Haven derives from them.

Safety: the pixel count is read from the header and checked before any decoding, so a
decompression bomb is refused without allocating its pixels; with `max_bytes`, so is an image
whose decode would take more memory than that (`decode_cost`: pixels x the bytes per pixel of
its stored mode, 16-bit and alpha included, plus the working copies of the conversion to luma
and RGB).

Speed (measured in `bench/hash.py`, see docs/signals.md): PDQ only needs luma, so JPEGs are
decoded straight to their Y channel with `simplejpeg` (libjpeg-turbo: no chroma upsampling or
colour conversion), with DCT-domain scaling only when the shorter side exceeds
`JPEG_HASH_MIN_SIDE`; the PDQ itself is computed by `haven.signals.pdq` (bit-identical to
Meta's reference, ~40x cheaper). Other formats go through Pillow.

Orientation: Haven hashes pixels *as stored* and ignores the EXIF orientation tag, like
threatexchange's `pdq_hasher`, Meta's `pdq-photo-hasher` and the tools that produced NCMEC and
industry lists; a copy whose orientation was baked into the pixels (a service that re-encodes
uploads does this) is one of the eight dihedral variants queried by default, so it still matches.
HEIF is the exception: libheif applies the container's rotation (irot/imir) while decoding.

Robustness beyond plain PDQ: queries also hash the eight flips/rotations, the image with
uniform borders trimmed and a few sub-regions (without the top or bottom band, a centred crop:
`haven.signals.robust`); entries Haven hashes itself also bank centre crops and, by the bank's
robustness level, the same sub-regions, deeper and corner crops and small rotations.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import simplejpeg
from PIL import Image, UnidentifiedImageError

from haven.core.errors import Invalid, UndecodableMedia, UnsupportedMediaType
from haven.signals.crypto import CryptoHashes, crypto_hashes
from haven.signals.pdq import FloatArray, dihedral_from_luma, dihedral_with_columns, luma_from_rgb, pdq_from_luma
from haven.signals.robust import Robustness, bank_robust_variants, query_subregions

try:  # HEIC/HEIF support is optional at import time but installed by default.
    import pillow_heif

    pillow_heif.register_heif_opener()
    _HEIF = True
except ImportError:  # pragma: no cover
    _HEIF = False

#: Magic numbers -> (media kind, MIME type). Sniffed from the bytes, never trusted from the caller.
_MAGIC: list[tuple[bytes, int, str, str]] = [
    (b"\xff\xd8\xff", 0, "image", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image", "image/png"),
    (b"GIF87a", 0, "image", "image/gif"),
    (b"GIF89a", 0, "image", "image/gif"),
    (b"BM", 0, "image", "image/bmp"),
    (b"II*\x00", 0, "image", "image/tiff"),
    (b"MM\x00*", 0, "image", "image/tiff"),
    (b"\x1aE\xdf\xa3", 0, "video", "video/webm"),
]
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_VIDEO_BRANDS = {b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"qt  ", b"M4V ", b"3gp4", b"3gp5", b"dash"}

#: JPEGs whose shorter side exceeds this are decoded with DCT scaling to no less than it.
#: 1024 keeps a 1024x768 photo at full resolution (PDQ within 0.1 bit of a full RGB decode on
#: average) and a 12 MP one within 3 bits, at half the cost and a bounded memory footprint.
JPEG_HASH_MIN_SIDE = 1024
#: A border row/column may differ from the border colour by this much (0-255 luma): JPEG ringing.
TRIM_TOLERANCE = 24
#: ...in at most this fraction of its pixels (a logo or caption on a letterbox bar stays border).
TRIM_OUTLIER_FRACTION = 0.02
#: Border trims smaller than this fraction of the side are noise, not letterboxing.
TRIM_MIN_FRACTION = 0.02


#: Bytes per pixel of the working copies made after the stored image is decoded, on the Pillow
#: path: the converted RGB image (4: Pillow keeps RGB in 32-bit pixels), its numpy copy (3), the
#: float32 luma (4) and the temporaries of border trimming (float32 difference and a mask: 5).
#: An upper bound: hashing and classifying a 49 MP RGB PNG grew peak RSS by 701 MB (estimate
#: 980 MB), a 36 MP 16-bit TIFF by 524 MB (estimate 792 MB).
WORKING_BYTES_PER_PIXEL = 16
#: ...and of a JPEG that libjpeg-turbo decodes itself (DCT-scaled luma, float32 copy, scaled RGB).
JPEG_WORKING_BYTES_PER_PIXEL = 2


def stored_bytes_per_pixel(mode: str) -> int:
    """Bytes per pixel Pillow allocates for an image of `mode` (multi-band modes take 32 bits)."""
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


def decode_cost(width: int, height: int, mode: str) -> int:
    """Estimated peak bytes of decoding an image to luma and RGB, from its header alone. 16-bit
    greyscale also takes a float32 plane for its rescaling to 8 bits."""
    extra = 4 if mode.startswith("I") or mode == "F" else 0
    return width * height * (stored_bytes_per_pixel(mode) + WORKING_BYTES_PER_PIXEL + extra)


def _check_budget(width: int, height: int, mode: str, max_bytes: int | None, *, jpeg: bool = False) -> None:
    if max_bytes is None:
        return
    cost = width * height * JPEG_WORKING_BYTES_PER_PIXEL if jpeg else decode_cost(width, height, mode)
    if cost > max_bytes:
        raise Invalid(
            f"decoding this {width}x{height} {mode} image would take about {cost // 2**20} MiB, "
            f"more than the limit of {max_bytes // 2**20} MiB per upload",
            code="image_too_costly",
            details={"width": width, "height": height, "mode": mode, "estimated_bytes": cost, "max_bytes": max_bytes},
        )


@dataclass(frozen=True)
class DecodedImage:
    """An image decoded to RGB (for consumers that need colour)."""

    rgb: npt.NDArray[np.uint8]
    width: int
    height: int
    mime: str


@dataclass(frozen=True)
class LumaImage:
    """An image decoded to PDQ's luma: float32, possibly DCT-scaled; width/height are the stored size."""

    luma: FloatArray
    width: int
    height: int
    mime: str


@dataclass(frozen=True)
class ImageHashes:
    """Everything intake needs from one image."""

    crypto: CryptoHashes
    mime: str
    width: int
    height: int
    pdq: str
    quality: int
    #: Hashes to look up: (variant name, hex); always starts with ("original", pdq).
    query_variants: list[tuple[str, str]] = field(default_factory=list)


def sniff_media_kind(data: bytes) -> tuple[str, str] | None:
    """(media kind, MIME type) from the leading bytes, or None when unknown."""
    for magic, offset, kind, mime in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return kind, mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image", "image/webp"
    if data[:4] == b"RIFF" and data[8:12] == b"AVI ":
        return "video", "video/x-msvideo"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _HEIF_BRANDS:
            return "image", "image/heif"
        if brand in _AVIF_BRANDS:  # AV1 in HEIF: Pillow's own AVIF plugin decodes it
            return "image", "image/avif"
        if brand in _VIDEO_BRANDS or brand.startswith(b"3g"):
            return "video", "video/mp4"
    return None


def _image_mime(data: bytes) -> str:
    sniffed = sniff_media_kind(data)
    if sniffed is None or sniffed[0] != "image":
        raise UnsupportedMediaType(
            "not an image Haven can hash (JPEG, PNG, GIF, WebP, BMP, TIFF, HEIC/HEIF)",
            details={"detected": sniffed[1] if sniffed else None},
        )
    return sniffed[1]


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise UndecodableMedia("the image header gives no size")
    if width * height > max_pixels:
        raise Invalid(
            f"image has {width * height} pixels, more than the limit of {max_pixels}",
            code="image_too_large",
            details={"width": width, "height": height, "max_pixels": max_pixels},
        )


def _undecodable(mime: str, exc: BaseException) -> UndecodableMedia:
    return UndecodableMedia(f"the {mime} file could not be decoded: {exc}")


def _jpeg_luma(
    data: bytes, max_pixels: int, min_side: int, max_bytes: int | None = None
) -> tuple[FloatArray, int, int] | None:
    """Y channel of a YCbCr/greyscale JPEG via libjpeg-turbo, or None to let Pillow handle it
    (CMYK/YCCK, or anything libjpeg-turbo's header parser rejects)."""
    try:
        height, width, colourspace, _ = simplejpeg.decode_jpeg_header(data)
    except ValueError:
        return None
    _check_pixels(width, height, max_pixels)  # before any pixel is decoded
    if colourspace not in ("YCbCr", "Gray"):
        return None
    m = min_side if min(width, height) > min_side else 0
    scale = max(1, min(8, min(width, height) // min_side)) if m else 1
    _check_budget(width // scale, height // scale, colourspace, max_bytes, jpeg=True)
    m = min_side if min(width, height) > min_side else 0
    try:
        y = simplejpeg.decode_jpeg(data, colorspace="GRAY", min_height=m, min_width=m)
    except ValueError as exc:
        raise _undecodable("image/jpeg", exc) from None
    return y[:, :, 0].astype(np.float32), width, height


def _open_checked(data: bytes, mime: str, max_pixels: int, max_bytes: int | None = None) -> Image.Image:
    """Open with Pillow (header only) and refuse bombs before anything is decoded."""
    with warnings.catch_warnings():
        # Haven applies its own pixel limit; Pillow's warning threshold is lower.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise Invalid(
                f"image has more pixels than the limit of {max_pixels}",
                code="image_too_large",
                details={"max_pixels": max_pixels},
            ) from None
    _check_pixels(img.size[0], img.size[1], max_pixels)
    _check_budget(img.size[0], img.size[1], img.mode, max_bytes)
    return img


def _to_rgb_or_l(img: Image.Image) -> Image.Image:
    """First frame, transparency flattened onto white (as most services display it), 16-bit
    and float greyscale scaled to 8 bits (Pillow's own conversion would clip them to white)."""
    img.seek(0)
    mode = img.mode
    if mode in ("RGB", "L"):
        return img
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        # One float32 plane, scaled in place (float64 and temporaries took 3 GB at 100 MP).
        arr = np.asarray(img, dtype=np.float32)
        peak = float(arr.max()) if arr.size else 0.0
        top = 65535.0 if mode != "F" and peak > 255 else 255.0
        if mode == "F" and peak <= 1.0:
            top = 1.0
        arr *= np.float32(255.0 / top)
        np.clip(arr, 0, 255, out=arr)
        np.rint(arr, out=arr)
        return Image.fromarray(arr.astype(np.uint8), "L")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(bg, rgba).convert("RGB")
    if mode == "1":
        return img.convert("L")
    return img.convert("RGB")


def _pillow_decode(data: bytes, mime: str, max_pixels: int, max_bytes: int | None = None) -> Image.Image:
    img = _open_checked(data, mime, max_pixels, max_bytes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            out = _to_rgb_or_l(img)
            out.load()
            return out
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, IndexError) as exc:
        raise _undecodable(mime, exc) from None


def decode_luma(
    data: bytes,
    *,
    max_pixels: int = 100_000_000,
    jpeg_min_side: int = JPEG_HASH_MIN_SIDE,
    max_bytes: int | None = None,
) -> LumaImage:
    """Decode to PDQ's luma, refusing bombs (and, with `max_bytes`, images whose decode would
    take more memory) before decoding; GIF gives its first frame."""
    return decode_for_screening(
        data, max_pixels=max_pixels, jpeg_min_side=jpeg_min_side, max_bytes=max_bytes, rgb=False
    )[0]


def decode_for_screening(
    data: bytes,
    *,
    max_pixels: int = 100_000_000,
    jpeg_min_side: int = JPEG_HASH_MIN_SIDE,
    max_bytes: int | None = None,
    rgb: bool = True,
) -> tuple[LumaImage, npt.NDArray[np.uint8] | None]:
    """One decode for both consumers of an upload: PDQ's luma and, with `rgb`, the RGB pixels
    the classifiers take. Through Pillow (PNG, TIFF, WebP, HEIF, ...) the image is decoded once
    and both are derived from it. A YCbCr JPEG keeps libjpeg-turbo's luma-only decode for the
    hash (bit-for-bit what `hash_image` always gave) and, with `rgb`, a second decode that is
    DCT-scaled like it (no full-size RGB of a large photo is ever made)."""
    mime = _image_mime(data)
    if mime == "image/jpeg":
        got = _jpeg_luma(data, max_pixels, jpeg_min_side, max_bytes)
        if got is not None:
            luma = LumaImage(got[0], got[1], got[2], mime)
            if not rgb:
                return luma, None
            return luma, decode_image(data, max_pixels=max_pixels, min_side=jpeg_min_side).rgb
    try:
        img = _pillow_decode(data, mime, max_pixels, max_bytes)
        pixels = np.asarray(img, dtype=np.uint8)
        luma = LumaImage(luma_from_rgb(pixels), img.size[0], img.size[1], mime)
        if not rgb:
            return luma, None
        if img.mode != "RGB":
            pixels = np.asarray(img.convert("RGB"), dtype=np.uint8)
        return luma, pixels
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise _undecodable(mime, exc) from None


def decode_image(
    data: bytes, *, max_pixels: int = 100_000_000, min_side: int | None = None, max_bytes: int | None = None
) -> DecodedImage:
    """Decode to RGB uint8 for consumers that need colour, refusing bombs before decoding.

    With `min_side`, JPEGs larger than that are DCT-scaled while decoding (2-4x faster on
    photographs); the reported width/height stay those of the stored image.
    """
    mime = _image_mime(data)
    if mime == "image/jpeg":
        try:
            height, width, colourspace, _ = simplejpeg.decode_jpeg_header(data)
        except ValueError:
            colourspace = None
        if colourspace in ("YCbCr", "Gray"):
            _check_pixels(width, height, max_pixels)
            m = min_side if min_side and min(width, height) > min_side else 0
            scale = max(1, min(8, min(width, height) // m)) if m else 1
            _check_budget(width // scale, height // scale, colourspace, max_bytes, jpeg=True)
            try:
                rgb = simplejpeg.decode_jpeg(data, colorspace="RGB", min_height=m, min_width=m)
            except ValueError as exc:
                raise _undecodable(mime, exc) from None
            return DecodedImage(rgb=rgb, width=width, height=height, mime=mime)
    try:
        img = _pillow_decode(data, mime, max_pixels, max_bytes)
        rgb = np.asarray(img if img.mode == "RGB" else img.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise _undecodable(mime, exc) from None
    return DecodedImage(rgb=rgb, width=img.size[0], height=img.size[1], mime=mime)


def trim_uniform_borders(
    luma: FloatArray,
    tolerance: float = TRIM_TOLERANCE,
    outlier_fraction: float = TRIM_OUTLIER_FRACTION,
    min_fraction: float = TRIM_MIN_FRACTION,
) -> FloatArray | None:
    """The image without uniform borders (letterboxing, padding), or None when there are none.

    The border colour is the median of the four corners; a row or column is border when no more
    than `outlier_fraction` of its pixels differ from it by more than `tolerance`. Each side is
    trimmed independently, from the outside in, until the first row/column that is not border.
    """
    if luma.ndim == 3:
        luma = luma_from_rgb(luma.astype(np.uint8)) if luma.dtype == np.uint8 else luma.mean(axis=2)
    h, w = luma.shape
    if h < 16 or w < 16:
        return None
    corners = np.array([luma[0, 0], luma[0, -1], luma[-1, 0], luma[-1, -1]])
    colour = float(np.median(corners))

    def border(line: FloatArray) -> bool:
        return bool((np.abs(line - colour) > tolerance).mean() <= outlier_fraction)

    # A side is trimmed only from its outermost line inwards: when none of the four outermost
    # lines is border, nothing is (most uploads), and the whole-image pass below is skipped.
    if not (border(luma[0]) or border(luma[-1]) or border(luma[:, 0]) or border(luma[:, -1])):
        return None
    off = np.abs(luma - colour) > tolerance
    row_border = off.mean(axis=1) <= outlier_fraction
    col_border = off.mean(axis=0) <= outlier_fraction

    def run(flags: npt.NDArray[np.bool_]) -> int:
        bad = np.flatnonzero(~flags)
        return int(bad[0]) if bad.size else len(flags)

    top, bottom = run(row_border), run(row_border[::-1])
    left, right = run(col_border), run(col_border[::-1])
    if top + bottom >= h * 0.8 or left + right >= w * 0.8:
        return None  # (nearly) uniform image, or a sliver: nothing meaningful left
    # Trims of a few pixels are edge noise (or a thin frame PDQ tolerates anyway).
    top, bottom = (top, bottom) if max(top, bottom) >= h * min_fraction else (0, 0)
    left, right = (left, right) if max(left, right) >= w * min_fraction else (0, 0)
    if top == bottom == left == right == 0:
        return None
    return luma[top : h - bottom, left : w - right]


#: Centre crops banked alongside entries Haven hashes itself: fraction of each side kept.
#: Chosen with bench/robustness.py: with these four, copies cropped by 3, 5, 8 and 10% per side
#: all match (the largest crop must reach the deepest crop to catch); (0.95, 0.90, 0.85) missed
#: every 10% crop; no false match appeared on unrelated images with either set.
CENTRE_CROPS = (0.95, 0.90, 0.85, 0.80)


def centre_crops(luma: FloatArray, keeps: tuple[float, ...] = CENTRE_CROPS) -> list[tuple[str, FloatArray]]:
    h, w = luma.shape[:2]
    out = []
    for keep in keeps:
        dh, dw = int(h * (1 - keep) / 2), int(w * (1 - keep) / 2)
        if dh == 0 and dw == 0:
            continue
        out.append((f"crop{round(keep * 100)}", luma[dh : h - dh, dw : w - dw]))
    return out


def hash_image(
    data: bytes,
    *,
    max_pixels: int = 100_000_000,
    dihedral: bool = True,
    trim_borders: bool = True,
    subregions: bool = True,
    max_bytes: int | None = None,
) -> ImageHashes:
    """Crypto hashes, PDQ with quality, and the PDQ variants to query with."""
    decoded = decode_luma(data, max_pixels=max_pixels, max_bytes=max_bytes)
    return hash_decoded(
        crypto_hashes(data), decoded, dihedral=dihedral, trim_borders=trim_borders, subregions=subregions
    )


def query_variants(
    luma: FloatArray, *, dihedral: bool = True, trim_borders: bool = True, subregions: bool = True
) -> tuple[list[tuple[str, str]], int]:
    """The PDQ hashes to look up for one image and the quality of the original: the image (and
    its 8 flips/rotations), the image with uniform borders trimmed, and with `subregions` the
    image without its top or bottom band and a centred crop (`haven.signals.robust`)."""
    cols = None
    if dihedral:
        variants, quality, cols = dihedral_with_columns(luma)
    else:
        pdq, quality = pdq_from_luma(luma)
        variants = [("original", pdq)]
    if trim_borders:
        trimmed = trim_uniform_borders(luma)
        if trimmed is not None:
            if dihedral:
                tv, _ = dihedral_from_luma(trimmed)
                variants += [(f"trimmed_{name}", h) for name, h in tv]
            else:
                variants.append(("trimmed", pdq_from_luma(trimmed)[0]))
    if subregions:
        variants += query_subregions(luma, cols=cols)
    return variants, quality


def hash_decoded(
    crypto: CryptoHashes,
    decoded: LumaImage,
    *,
    dihedral: bool = True,
    trim_borders: bool = True,
    subregions: bool = True,
) -> ImageHashes:
    variants, quality = query_variants(
        decoded.luma, dihedral=dihedral, trim_borders=trim_borders, subregions=subregions
    )
    return ImageHashes(
        crypto=crypto,
        mime=decoded.mime,
        width=decoded.width,
        height=decoded.height,
        pdq=variants[0][1],
        quality=quality,
        query_variants=variants,
    )


def crop_variants(luma: FloatArray, keeps: tuple[float, ...] = CENTRE_CROPS) -> list[tuple[str, str]]:
    """PDQ of the centre crops banked alongside an entry."""
    return [(name, pdq_from_luma(np.ascontiguousarray(c))[0]) for name, c in centre_crops(luma, keeps)]


def banked_variants(luma: FloatArray, keeps: tuple[float, ...] = CENTRE_CROPS) -> list[tuple[str, str]]:
    """PDQ variants banked alongside an entry Haven hashes itself: the centre crops, and the
    image with its own uniform borders trimmed when it has any (a picture on a plain background
    that is re-posted with padding in the same colour trims to *that*, not to the original)."""
    out = crop_variants(luma, keeps)
    trimmed = trim_uniform_borders(luma)
    if trimmed is not None:
        out.append(("trimmed", pdq_from_luma(np.ascontiguousarray(trimmed))[0]))
    return out


def bank_variants(
    data: bytes, *, max_pixels: int = 100_000_000, level: Robustness | str = Robustness.strong
) -> tuple[ImageHashes, list[tuple[str, str]]]:
    """For entries Haven banks from media itself: the hashes, plus the named PDQ variants of
    robustness `level`: at `standard`, the centre crops, the trimmed image and the top and bottom
    bands; at `strong` also deeper and corner crops and small rotations; none at `off`.
    (`haven.signals.robust.keep_for_level` narrows a `strong` list to a bank's level.)"""
    decoded = decode_luma(data, max_pixels=max_pixels)
    hashes = hash_decoded(crypto_hashes(data), decoded, dihedral=False, trim_borders=False, subregions=False)
    if Robustness(level) is Robustness.off:
        return hashes, []
    return hashes, banked_variants(decoded.luma) + bank_robust_variants(decoded.luma, level)
