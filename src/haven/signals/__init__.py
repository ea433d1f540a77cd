"""Turning content into signals: cryptographic hashes, PDQ with quality, normalised text.

Pure functions with no database or network access.
"""

from haven.signals.crypto import CryptoHashes, crypto_hashes
from haven.signals.image import (
    DecodedImage,
    ImageHashes,
    LumaImage,
    decode_image,
    decode_luma,
    hash_image,
    sniff_media_kind,
)
from haven.signals.pdq import (
    hamming,
    hex_to_bits,
    is_valid_pdq,
    pdq_from_array,
)

__all__ = [
    "CryptoHashes",
    "DecodedImage",
    "ImageHashes",
    "LumaImage",
    "crypto_hashes",
    "decode_image",
    "decode_luma",
    "hamming",
    "hash_image",
    "hex_to_bits",
    "is_valid_pdq",
    "pdq_from_array",
    "sniff_media_kind",
]
