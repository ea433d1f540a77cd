"""MD5 of the bytes: exact matching; NCMEC and industry lists still carry it."""

from haven.signals.types.base import HexSignalType

MD5 = HexSignalType(
    "md5",
    32,
    media_kinds=frozenset({"image", "video", "file"}),
    examples=("d41d8cd98f00b204e9800998ecf8427e", "0cc175b9c0f1b6a831c399e269772661"),
)
