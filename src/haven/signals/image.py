"""Decoding images safely and fast, and the PDQ hashes Haven derives from them.

Safety: the pixel count is read from the header and checked before any decoding, so a
decompression bomb is refused without allocating its pixels. Speed: JPEGs are decoded with
DCT-domain scaling (Pillow's draft mode) to no less than 512 px, since PDQ works on a 64x64
reduction anyway; `bench/hash.py` measures the bit difference against a full decode.

Robustness beyond plain PDQ: queries also hash the eight flips/rotations and the image with
uniform borders trimmed; entries Haven hashes itself also bank a few centre crops.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from haven.core.errors import Invalid, UndecodableMedia, UnsupportedMediaType
from haven.signals.crypto import CryptoHashes, crypto_hashes
from haven.signals.pdq import dihedral_from_array, pdq_from_array

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
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}
_VIDEO_BRANDS = {b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"qt  ", b"M4V ", b"3gp4", b"3gp5", b"dash"}

PDQ_MIN_SIDE = 512
TRIM_TOLERANCE = 12


@dataclass(frozen=True)
class DecodedImage:
    rgb: npt.NDArray[np.uint8]
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
        if brand in _VIDEO_BRANDS or brand.startswith(b"3g"):
            return "video", "video/mp4"
    return None


def decode_image(data: bytes, *, max_pixels: int = 100_000_000, fast: bool = True) -> DecodedImage:
    """Decode to RGB uint8, refusing bombs before decoding; GIF gives its first frame."""
    sniffed = sniff_media_kind(data)
    if sniffed is None or sniffed[0] != "image":
        raise UnsupportedMediaType(
            "not an image Haven can hash (JPEG, PNG, GIF, WebP, BMP, TIFF, HEIC/HEIF)",
            details={"detected": sniffed[1] if sniffed else None},
        )
    mime = sniffed[1]
    try:
        with warnings.catch_warnings():
            # Haven applies its own pixel limit below; Pillow's warning threshold is lower.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            try:
                img: Image.Image = Image.open(io.BytesIO(data))
            except Image.DecompressionBombError:
                raise Invalid(
                    f"image has more pixels than the limit of {max_pixels}",
                    code="image_too_large",
                    details={"max_pixels": max_pixels},
                ) from None
            width, height = img.size
            if width * height > max_pixels:
                raise Invalid(
                    f"image has {width * height} pixels, more than the limit of {max_pixels}",
                    code="image_too_large",
                    details={"width": width, "height": height, "max_pixels": max_pixels},
                )
            if fast and img.format == "JPEG":
                scale = min(width, height) / PDQ_MIN_SIDE
                if scale >= 2:
                    img.draft("RGB", (width // int(scale), height // int(scale)))
            img.seek(0)
            if img.mode not in ("RGB", "L"):
                img = _flatten(img)
            arr = np.asarray(img.convert("RGB") if img.mode != "RGB" else img, dtype=np.uint8)
    except (Invalid, UnsupportedMediaType):
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise UndecodableMedia(f"the {mime} file could not be decoded: {exc}") from None
    return DecodedImage(rgb=arr, width=width, height=height, mime=mime)


def _flatten(img: Image.Image) -> Image.Image:
    """Composite transparency onto white, the way most services display it."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(bg, rgba).convert("RGB")
    return img.convert("RGB")


def trim_uniform_borders(rgb: npt.NDArray[np.uint8], tolerance: int = TRIM_TOLERANCE) -> npt.NDArray[np.uint8] | None:
    """The image without uniform borders (letterboxing, padding), or None when there are none.

    A row or column is border when all its pixels are within `tolerance` of the corner colour.
    """
    h, w = rgb.shape[:2]
    if h < 16 or w < 16:
        return None
    grey = rgb.astype(np.int16).mean(axis=2) if rgb.ndim == 3 else rgb.astype(np.int16)
    corners = [grey[0, 0], grey[0, -1], grey[-1, 0], grey[-1, -1]]
    colour = float(np.median(corners))
    diff = np.abs(grey - colour) > tolerance
    rows = np.flatnonzero(diff.any(axis=1))
    cols = np.flatnonzero(diff.any(axis=0))
    if rows.size == 0 or cols.size == 0:
        return None
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    if top == 0 and left == 0 and bottom == h and right == w:
        return None
    # Ignore trims of a pixel or two (noise), and trims that leave a sliver.
    if max(top, left, h - bottom, w - right) < 3 or (bottom - top) < h * 0.2 or (right - left) < w * 0.2:
        return None
    return rgb[top:bottom, left:right]


#: Centre crops banked alongside entries Haven hashes itself: fraction of each side kept.
CENTRE_CROPS = (0.95, 0.90, 0.85)


def centre_crops(rgb: npt.NDArray[np.uint8]) -> list[tuple[str, npt.NDArray[np.uint8]]]:
    h, w = rgb.shape[:2]
    out = []
    for keep in CENTRE_CROPS:
        dh, dw = int(h * (1 - keep) / 2), int(w * (1 - keep) / 2)
        if dh == 0 and dw == 0:
            continue
        out.append((f"crop{round(keep * 100)}", rgb[dh : h - dh, dw : w - dw]))
    return out


def hash_image(
    data: bytes,
    *,
    max_pixels: int = 100_000_000,
    dihedral: bool = True,
    trim_borders: bool = True,
    fast: bool = True,
) -> ImageHashes:
    """Crypto hashes, PDQ with quality, and the PDQ variants to query with."""
    decoded = decode_image(data, max_pixels=max_pixels, fast=fast)
    return hash_decoded(crypto_hashes(data), decoded, dihedral=dihedral, trim_borders=trim_borders)


def hash_decoded(
    crypto: CryptoHashes, decoded: DecodedImage, *, dihedral: bool = True, trim_borders: bool = True
) -> ImageHashes:
    rgb = decoded.rgb
    if dihedral:
        variants, quality = dihedral_from_array(rgb)
    else:
        pdq, quality = pdq_from_array(rgb)
        variants = [("original", pdq)]
    if trim_borders:
        trimmed = trim_uniform_borders(rgb)
        if trimmed is not None:
            if dihedral:
                tv, _ = dihedral_from_array(trimmed)
                variants += [(f"trimmed_{name}", h) for name, h in tv]
            else:
                variants.append(("trimmed", pdq_from_array(trimmed)[0]))
    return ImageHashes(
        crypto=crypto,
        mime=decoded.mime,
        width=decoded.width,
        height=decoded.height,
        pdq=variants[0][1],
        quality=quality,
        query_variants=variants,
    )


def bank_variants(data: bytes, *, max_pixels: int = 100_000_000) -> tuple[ImageHashes, list[tuple[str, str]]]:
    """For entries Haven banks from media itself: the hashes, plus PDQ of centre crops."""
    decoded = decode_image(data, max_pixels=max_pixels, fast=True)
    hashes = hash_decoded(crypto_hashes(data), decoded, dihedral=False, trim_borders=False)
    crops = [(name, pdq_from_array(np.ascontiguousarray(c))[0]) for name, c in centre_crops(decoded.rgb)]
    return hashes, crops


__all__ = ["ImageOps", "bank_variants", "centre_crops", "hash_decoded", "trim_uniform_borders"]
