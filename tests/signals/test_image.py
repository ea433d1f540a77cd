"""Decoding every format and mode Haven accepts, refusing bombs before decoding, and errors."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import simplejpeg
from PIL import Image, ImageFile, ImageOps

from haven.core.errors import Invalid, UndecodableMedia, UnsupportedMediaType
from haven.signals.image import (
    decode_image,
    decode_luma,
    hash_image,
    sniff_media_kind,
    trim_uniform_borders,
)
from haven.signals.pdq import hamming, pdq_from_array
from tests.helpers import encode, sample


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return sample("coffee")


@pytest.fixture(scope="module")
def reference(photo: Image.Image) -> str:
    """PDQ of the lossless pixels."""
    return pdq_from_array(np.asarray(photo))[0]


def _heic(img: Image.Image) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return encode(img, "HEIF", quality=90)


# (format, save options, expected MIME, max bits from the lossless hash)
FORMATS = [
    ("PNG", {}, "image/png", 0),
    ("BMP", {}, "image/bmp", 0),
    ("TIFF", {}, "image/tiff", 0),
    ("TIFF", {"compression": "tiff_lzw"}, "image/tiff", 0),
    ("WEBP", {"lossless": True}, "image/webp", 0),
    ("WEBP", {"quality": 80}, "image/webp", 16),
    ("JPEG", {"quality": 90}, "image/jpeg", 16),
    ("JPEG", {"quality": 90, "progressive": True}, "image/jpeg", 16),
    ("GIF", {}, "image/gif", 24),  # palette quantisation to 256 colours
    ("AVIF", {"quality": 80}, "image/avif", 16),
]


@pytest.mark.parametrize(("fmt", "opts", "mime", "max_bits"), FORMATS)
def test_each_format_decodes_and_hashes_close_to_the_lossless_pixels(
    photo: Image.Image, reference: str, fmt: str, opts: dict[str, object], mime: str, max_bits: int
) -> None:
    data = encode(photo, fmt, **opts)
    assert sniff_media_kind(data) == ("image", mime)
    h = hash_image(data)
    assert h.mime == mime and (h.width, h.height) == photo.size
    assert hamming(h.pdq, reference) <= max_bits
    assert h.quality >= 50
    rgb = decode_image(data)
    assert rgb.rgb.shape == (photo.size[1], photo.size[0], 3)


def test_heic_written_with_pillow_heif(photo: Image.Image, reference: str) -> None:
    data = _heic(photo)
    assert sniff_media_kind(data) == ("image", "image/heif")
    h = hash_image(data)
    assert (h.width, h.height) == photo.size
    assert hamming(h.pdq, reference) <= 16


def test_jpeg_luma_fast_path_equals_full_rgb_decode_on_a_large_photo() -> None:
    big = sample("chelsea").resize((2400, 1600), Image.LANCZOS)
    data = encode(big, "JPEG", quality=90)
    fast = decode_luma(data)
    assert max(fast.luma.shape) < 2400  # DCT-scaled while decoding
    assert (fast.width, fast.height) == (2400, 1600)
    full = pdq_from_array(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))[0]
    assert hamming(hash_image(data).pdq, full) <= 8


def test_greyscale_and_cmyk_jpegs(photo: Image.Image, reference: str) -> None:
    grey = hash_image(encode(photo.convert("L"), "JPEG", quality=95))
    assert hamming(grey.pdq, pdq_from_array(np.asarray(photo.convert("L")))[0]) <= 16
    cmyk = photo.convert("CMYK")
    buf = io.BytesIO()
    cmyk.save(buf, "JPEG", quality=95)  # (helpers.encode would convert to RGB first)
    data = buf.getvalue()
    assert simplejpeg.decode_jpeg_header(data)[2] == "CMYK"  # goes through Pillow, not libjpeg-turbo's Y
    assert hamming(hash_image(data).pdq, pdq_from_array(np.asarray(cmyk.convert("RGB")))[0]) <= 16
    assert hamming(hash_image(encode(cmyk, "TIFF")).pdq, pdq_from_array(np.asarray(cmyk.convert("RGB")))[0]) == 0


def test_palette_and_one_bit_modes(photo: Image.Image) -> None:
    p = photo.convert("P", palette=Image.Palette.ADAPTIVE)
    assert hash_image(encode(p, "PNG")).pdq == pdq_from_array(np.asarray(p.convert("RGB")))[0]
    one = photo.convert("1")
    assert hash_image(encode(one, "PNG")).pdq == pdq_from_array(np.asarray(one.convert("L")))[0]


def test_sixteen_bit_greyscale_is_scaled_not_clipped(photo: Image.Image) -> None:
    grey8 = np.asarray(photo.convert("L"))
    grey16 = Image.fromarray(grey8.astype(np.uint16) * 257)  # mode I;16
    assert grey16.mode == "I;16"
    data = encode(grey16, "PNG")
    reopened = Image.open(io.BytesIO(data))
    assert reopened.mode in ("I;16", "I")
    h = hash_image(data)
    assert h.quality >= 50  # Pillow's own convert("L") would clip it to a white, quality-0 image
    assert hamming(h.pdq, pdq_from_array(grey8)[0]) <= 2


def test_transparency_is_flattened_onto_white(photo: Image.Image) -> None:
    rgba = photo.convert("RGBA")
    alpha = np.full((photo.size[1], photo.size[0]), 255, np.uint8)
    alpha[:, : photo.size[0] // 3] = 0  # left third fully transparent
    rgba.putalpha(Image.fromarray(alpha))
    on_white = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
    expected = pdq_from_array(np.asarray(on_white))[0]
    for fmt in ("PNG", "WEBP", "TIFF"):
        opts = {"lossless": True} if fmt == "WEBP" else {}
        assert hash_image(encode(rgba, fmt, **opts)).pdq == expected, fmt
    la = rgba.convert("LA")
    la_white = Image.alpha_composite(Image.new("RGBA", la.size, "white"), la.convert("RGBA")).convert("RGB")
    assert hash_image(encode(la, "PNG")).pdq == pdq_from_array(np.asarray(la_white))[0]
    # Palette with a transparent index.
    p = Image.new("P", (200, 200), 0)
    p.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    p.paste(1, (50, 50, 150, 150))
    data = encode(p, "PNG", transparency=0)
    flat = np.asarray(decode_image(data).rgb)
    assert tuple(flat[0, 0]) == (255, 255, 255) and tuple(flat[100, 100]) == (255, 0, 0)


def test_animated_gif_hashes_its_first_frame() -> None:
    first, second = sample("astronaut"), sample("camera")
    buf = io.BytesIO()
    first.save(buf, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    h = hash_image(buf.getvalue())
    first_hash = pdq_from_array(np.asarray(first.quantize().convert("RGB")))[0]
    second_hash = pdq_from_array(np.asarray(second.quantize().convert("RGB")))[0]
    assert hamming(h.pdq, first_hash) <= 24
    assert hamming(h.pdq, second_hash) > 64


def test_exif_orientation_is_ignored_and_the_displayed_copy_matches_a_dihedral_variant(photo: Image.Image) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    tagged = encode(photo, "JPEG", quality=92, exif=exif.tobytes())
    plain = encode(photo, "JPEG", quality=92)
    assert hash_image(tagged).pdq == hash_image(plain).pdq  # hashed as stored
    displayed = ImageOps.exif_transpose(Image.open(io.BytesIO(tagged)))
    assert displayed.size == (photo.size[1], photo.size[0])
    shown = hash_image(encode(displayed, "JPEG", quality=92))
    stored = hash_image(tagged).pdq
    assert hamming(shown.pdq, stored) > 64
    assert min(hamming(v, stored) for _, v in shown.query_variants) <= 31


# -- refusing bad input ----------------------------------------------------------------------


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def _jpeg_with_size(width: int, height: int) -> bytes:
    data = bytearray(encode(sample("coins"), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded pixels of an image over the limit")

    monkeypatch.setattr(simplejpeg, "decode_jpeg", refuse)
    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


@pytest.mark.parametrize(
    "data",
    [_png_header_only(20_000, 20_000), _png_header_only(12_000, 9_000), _jpeg_with_size(12_000, 9_000)],
    ids=["png-400MP", "png-108MP", "jpeg-108MP"],
)
def test_bombs_are_refused_from_the_header_without_decoding(no_decoding: None, data: bytes) -> None:
    for fn in (hash_image, decode_luma, decode_image):
        with pytest.raises(Invalid) as exc:
            fn(data, max_pixels=100_000_000)
        assert exc.value.code == "image_too_large"


def test_pixel_limit_is_a_parameter(photo: Image.Image) -> None:
    data = encode(photo, "PNG")
    with pytest.raises(Invalid):
        hash_image(data, max_pixels=photo.size[0] * photo.size[1] - 1)
    assert hash_image(data, max_pixels=photo.size[0] * photo.size[1]).pdq


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "HEIF"])
def test_truncated_files_are_undecodable(photo: Image.Image, fmt: str) -> None:
    data = _heic(photo) if fmt == "HEIF" else encode(photo, fmt)
    cut = data[: len(data) // 2]
    assert sniff_media_kind(cut) is not None
    with pytest.raises(UndecodableMedia):
        hash_image(cut)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_corrupt_bodies_are_undecodable(photo: Image.Image, fmt: str) -> None:
    data = _heic(photo) if fmt == "HEIF" else encode(photo, fmt)
    corrupt = data[:16] + bytes(len(data) - 16)
    with pytest.raises(UndecodableMedia):
        hash_image(corrupt)


def test_magic_bytes_alone_are_undecodable_and_unknown_bytes_unsupported() -> None:
    for magic in (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"BM", b"II*\x00"):
        with pytest.raises(UndecodableMedia):
            hash_image(magic + b"\x00" * 40)
    with pytest.raises(UnsupportedMediaType):
        hash_image(b"%PDF-1.7 not an image")
    with pytest.raises(UnsupportedMediaType):
        hash_image(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 32)  # a video


def test_trim_uniform_borders_finds_letterbox_and_ignores_plain_images(photo: Image.Image) -> None:
    luma = np.asarray(photo.convert("L"), dtype=np.float32)
    assert trim_uniform_borders(luma) is None
    boxed = np.pad(luma, ((60, 60), (0, 0)), constant_values=0)
    trimmed = trim_uniform_borders(boxed)
    assert trimmed is not None and trimmed.shape == luma.shape
    padded = np.pad(luma, ((10, 30), (40, 5)), constant_values=255)
    trimmed = trim_uniform_borders(padded)
    assert trimmed is not None and trimmed.shape == luma.shape
    assert trim_uniform_borders(np.full((100, 100), 7, np.float32)) is None


def test_heic_rotation_is_applied_by_libheif_and_still_matches_through_a_dihedral_variant(photo: Image.Image) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # pillow-heif turns this into the container's irot transform
    import pillow_heif

    pillow_heif.register_heif_opener()
    data = encode(photo, "HEIF", quality=90, exif=exif.tobytes())
    h = hash_image(data)
    assert (h.width, h.height) == (photo.size[1], photo.size[0])  # decoded as displayed
    stored = pdq_from_array(np.asarray(photo))[0]
    assert hamming(h.pdq, stored) > 64
    assert min(hamming(v, stored) for _, v in h.query_variants) <= 16
