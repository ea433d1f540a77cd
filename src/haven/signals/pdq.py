"""PDQ hashes (Meta's reference implementation through `pdqhash`) and their hex form.

The hex form is the one NCMEC, StopNCII and ThreatExchange exchange: 64 hex digits, the first
bit of the hash vector as the most significant bit.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
import pdqhash

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


def is_valid_pdq(value: str) -> bool:
    return bool(_HEX64.match(value))


def bits_to_hex(bits: npt.NDArray[np.integer]) -> str:
    return bytes(np.packbits(np.asarray(bits, dtype=np.uint8))).hex()


def hex_to_bits(value: str) -> npt.NDArray[np.uint8]:
    return np.unpackbits(np.frombuffer(bytes.fromhex(value), dtype=np.uint8))


def hamming(a: str, b: str) -> int:
    """Hamming distance of two hex PDQ hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def pdq_from_array(rgb: npt.NDArray[np.uint8]) -> tuple[str, int]:
    """PDQ hex and quality (0-100) of an RGB or greyscale uint8 array."""
    arr = rgb if rgb.ndim == 3 else np.repeat(rgb[:, :, None], 3, axis=2)
    bits, quality = pdqhash.compute(np.ascontiguousarray(arr))
    return bits_to_hex(bits), int(quality)


#: The names of the eight dihedral transforms in the order `pdqhash.compute_dihedral` returns.
DIHEDRAL = ("original", "rot90", "rot180", "rot270", "flip_ud", "mirror", "transpose", "antitranspose")


def dihedral_from_array(rgb: npt.NDArray[np.uint8]) -> tuple[list[tuple[str, str]], int]:
    """PDQ of the eight flips and rotations of one image: [(variant, hex)], quality.

    pdqhash computes them from one DCT, so this costs about as much as one hash.
    """
    arr = rgb if rgb.ndim == 3 else np.repeat(rgb[:, :, None], 3, axis=2)
    vectors, quality = pdqhash.compute_dihedral(np.ascontiguousarray(arr))
    return [(name, bits_to_hex(v)) for name, v in zip(DIHEDRAL, vectors, strict=True)], int(quality)
