"""SHA-256 of the bytes: exact matching, and the integrity hash of record."""

from haven.signals.types.base import HexSignalType

SHA256 = HexSignalType(
    "sha256",
    64,
    media_kinds=frozenset({"image", "video", "file"}),
    examples=(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
    ),
)
