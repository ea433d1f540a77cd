"""The connectors by kind, and how each provider's fingerprint names map onto Haven's signal-type
registry. A name mapped to None is stored and exported with its provenance but never matched
(PhotoDNA needs Microsoft's licensed library; TMK+PDQF and the others have no matcher here)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from haven.exchange.base import Connector, ExchangeError
from haven.exchange.connectors.ncmec import NCMECConnector
from haven.exchange.connectors.stopncii import StopNCIIConnector
from haven.exchange.connectors.threatexchange import ThreatExchangeConnector
from haven.exchange.feed import HavenFeedConnector

Factory = Callable[[str, Mapping[str, str], Mapping[str, Any]], Connector]

CONNECTORS: dict[str, Factory] = {
    "ncmec": NCMECConnector,
    "stopncii": StopNCIIConnector,
    "threatexchange": ThreatExchangeConnector,
    "haven_feed": HavenFeedConnector,
}
KINDS = tuple(CONNECTORS)

#: Credentials each kind needs (the names `haven exchange add --credential k=v` takes).
CREDENTIALS = {
    "ncmec": ("username", "password"),
    "stopncii": ("subscription_key", "fetch_function_key", "feedback_function_key"),
    "threatexchange": ("access_token",),
    "haven_feed": ("api_key",),
}

#: (kind, upstream type) -> Haven signal type, or None: known upstream, not matchable here.
TYPE_MAP: dict[str, dict[str, str | None]] = {
    "ncmec": {
        "image:md5": "md5",
        "image:sha1": "sha1",
        "image:pdq": "pdq",
        "image:pdna": None,
        "image:netclean": None,
        "video:md5": "md5",
        "video:sha1": "sha1",
        "video:pdna": None,
        "video:tmk_pdqf": None,
        "video:videntifier": None,
        "video:ssvh_pdna": None,
        "video:ssvh_safer_hash": None,
    },
    "stopncii": {"ImagePDQ": "pdq", "VideoMD5": "md5", "VideoTMK": None},
    # python-threatexchange's INDICATOR_TYPE names (signal_type/pdq, md5, sha256).
    "threatexchange": {
        "HASH_PDQ": "pdq",
        "HASH_VIDEO_MD5": "md5",
        "HASH_MD5": "md5",
        "HASH_VIDEO_SHA256": "sha256",
        "HASH_SHA256": "sha256",
        "HASH_TMK": None,
    },
    "haven_feed": {"md5": "md5", "sha1": "sha1", "sha256": "sha256", "pdq": "pdq", "vpdq": None},
}

UNMATCHED_REASON = {
    "pdna": "PhotoDNA: stored and exported; matched only through a licensed PhotoDNA plug-in",
}


def map_type(kind: str, upstream_type: str) -> tuple[str, str | None, str | None]:
    """(stored signal type name, Haven registry type or None, why it is not matched)."""
    table = TYPE_MAP.get(kind, {})
    short = upstream_type.split(":", 1)[-1].lower()
    if upstream_type in table:
        target = table[upstream_type]
        if target is not None:
            return target, target, None
        return short, None, UNMATCHED_REASON.get(short, f"{upstream_type}: Haven has no matcher for this type")
    return short, None, f"unknown {kind} fingerprint type '{upstream_type}'"


def build(kind: str, base_url: str, credentials: Mapping[str, str], config: Mapping[str, Any]) -> Connector:
    factory = CONNECTORS.get(kind)
    if factory is None:
        raise ExchangeError(f"unknown exchange kind '{kind}' (one of {', '.join(KINDS)})", code="unknown_kind")
    return factory(base_url, credentials, config)
