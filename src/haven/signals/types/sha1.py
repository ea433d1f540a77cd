"""SHA-1 of the bytes: exact matching; NCMEC and industry lists still carry it."""

from haven.signals.types.base import HexSignalType

SHA1 = HexSignalType(
    "sha1",
    40,
    media_kinds=frozenset({"image", "video", "file"}),
    examples=("da39a3ee5e6b4b0d3255bfef95601890afd80709", "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"),
)
