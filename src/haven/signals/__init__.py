"""Turning content into signals: cryptographic hashes, PDQ with quality, normalised text.

Pure functions with no database or network access.
"""

from haven.signals.crypto import CryptoHashes, crypto_hashes
from haven.signals.image import (
    DecodedImage,
    ImageHashes,
    decode_image,
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
    "crypto_hashes",
    "decode_image",
    "hamming",
    "hash_image",
    "hex_to_bits",
    "is_valid_pdq",
    "pdq_from_array",
    "sniff_media_kind",
]
