"""The one guard for every URL Haven connects to on an operator's or an admin's say-so: webhook
endpoints, external classifiers, the CyberTipline outside test mode, the DSA Transparency Database.

Server-side request forgery is refused twice:

- when a URL is configured (`check_url`): http(s) only, no user:password part, a host that is
  neither a metadata name nor a non-canonical number (`2130706433`, `0x7f.1`, `0177.0.0.1`), and
  every address it resolves to public;
- at each connection (`GuardedTransport`): the host is resolved once, every address checked, and
  the connection made to that checked address (the Host header and TLS SNI/certificate check keep
  the name), so a DNS answer that changes between the check and the connect (rebinding) cannot
  reach an internal address.

Non-public addresses (loopback, private, link-local including 169.254.169.254, carrier-grade NAT,
unspecified, multicast, reserved, and IPv6 forms that embed one of those: mapped, NAT64, 6to4,
Teredo) are allowed only when they fall in `HAVEN_OUTBOUND_ALLOWED_NETWORKS`, an explicit list of
CIDRs (empty by default; the test fixtures allow loopback).

Failures are reported as categories (`failure_category`) so that an error shown to an admin
never tells an address's open ports apart from its closed ones in detail.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import ssl
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ENV_ALLOWED = "HAVEN_OUTBOUND_ALLOWED_NETWORKS"

#: Names that reach cloud metadata services or the machine itself whatever DNS says.
BLOCKED_NAMES = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_NUMERIC_HOST = re.compile(r"[0-9a-fA-FxX.]+")

#: Failure categories (what GET /v1/webhook/deliveries and the ledger show).
CATEGORIES = ("timeout", "refused", "tls", "http_status", "blocked_address", "network", "no_endpoint")


class BlockedAddress(httpx.ConnectError):
    """The URL or an address it resolves to is not allowed. A ConnectError: nothing was sent."""

    def __init__(self, message: str, *, code: str = "blocked_address") -> None:
        super().__init__(message)
        self.code = code


# --- policy -----------------------------------------------------------------------------------


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v and v.strip())


@lru_cache(maxsize=8)
def _networks_from_text(raw: str) -> tuple[IPNetwork, ...]:
    raw = raw.strip()
    if not raw:
        return ()
    values = json.loads(raw) if raw.startswith("[") else raw.split(",")
    return parse_networks(str(v) for v in values)


def allowed_from_env() -> tuple[IPNetwork, ...]:
    """`HAVEN_OUTBOUND_ALLOWED_NETWORKS` (a JSON list or comma-separated CIDRs), read on each call
    so that a process and its tests see the current value (parsing is cached)."""
    return _networks_from_text(os.environ.get(ENV_ALLOWED, ""))


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """The address and any IPv4 address an IPv6 address carries."""
    out: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            out.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            out.append(ip.sixtofour)
        if ip.teredo is not None:
            out.extend(ip.teredo)
        if ip in ipaddress.ip_network("64:ff9b::/96") or ip in ipaddress.ip_network("64:ff9b:1::/48"):
            out.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return out


def is_public(ip: IPAddress) -> bool:
    return all(a.is_global and not a.is_multicast and not a.is_unspecified for a in _embedded(ip))


def address_allowed(ip: IPAddress, allowed: Sequence[IPNetwork]) -> bool:
    if any(ip.version == n.version and ip in n for n in allowed):
        return True
    return is_public(ip)


# --- checks -----------------------------------------------------------------------------------


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address of `host` (patched in tests: tests never resolve or reach real names)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[IPAddress] = []
    for info in infos:
        addr = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if addr not in seen:
            seen.append(addr)
    return seen


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_host(host: str, port: int, allowed: Sequence[IPNetwork]) -> list[IPAddress]:
    """Resolve `host` and return its addresses, or raise BlockedAddress if any is not allowed."""
    name = host.strip("[]").rstrip(".").lower()
    if not name:
        raise BlockedAddress("the URL has no host", code="invalid_url")
    literal = _literal(name)
    if literal is None:
        if name in BLOCKED_NAMES or name.endswith((".localhost", ".internal")):
            raise BlockedAddress(f"'{name}' is an internal name", code="blocked_address")
        if _NUMERIC_HOST.fullmatch(name) and not name.replace(".", "").isalpha():
            try:
                socket.inet_aton(name)
            except OSError:
                pass
            else:  # 2130706433, 0x7f000001, 0177.0.0.1, 127.1: an address in disguise
                raise BlockedAddress("IP addresses must be written in dotted-decimal form", code="blocked_address")
        try:
            addresses = resolve(name, port)
        except (OSError, UnicodeError):
            raise BlockedAddress(f"'{name}' does not resolve", code="unresolvable") from None
        if not addresses:
            raise BlockedAddress(f"'{name}' does not resolve", code="unresolvable")
    else:
        addresses = [literal]
    for addr in addresses:
        if not address_allowed(addr, allowed):
            raise BlockedAddress(
                "the URL leads to a non-public address (set HAVEN_OUTBOUND_ALLOWED_NETWORKS to allow it)",
                code="blocked_address",
            )
    return addresses


def check_url(url: str, allowed: Sequence[IPNetwork] | None = None, *, resolve_host: bool = True) -> httpx.URL:
    """Refuse a URL Haven must not connect to (BlockedAddress, with a `code`); returns it parsed."""
    allowed = allowed_from_env() if allowed is None else allowed
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise BlockedAddress("not a valid URL", code="invalid_url") from None
    if parsed.scheme not in ("http", "https"):
        raise BlockedAddress("the URL must be http(s)", code="invalid_url")
    if parsed.userinfo:
        raise BlockedAddress("the URL must not contain a user name or password", code="invalid_url")
    if not parsed.host:
        raise BlockedAddress("the URL has no host", code="invalid_url")
    if resolve_host:
        check_host(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80), allowed)
    return parsed


# --- the pinned transport ---------------------------------------------------------------------


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport that resolves each request's host once, checks every address, and
    connects to the first checked address (Host header and SNI keep the name)."""

    def __init__(self, allowed: Sequence[IPNetwork] | None = None, **kwargs: Any) -> None:
        self._allowed = allowed
        self._inner = httpx.HTTPTransport(**kwargs)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        allowed = allowed_from_env() if self._allowed is None else self._allowed
        url = request.url
        if url.scheme not in ("http", "https") or url.userinfo:
            raise BlockedAddress("the URL must be http(s) without credentials", code="invalid_url")
        host = url.host
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = check_host(host, port, allowed)
        pinned = addresses[0]
        if _literal(host) is None:
            request.url = url.copy_with(host=str(pinned))
            request.headers["Host"] = url.netloc.decode("ascii")
            if url.scheme == "https":
                request.extensions = {**request.extensions, "sni_hostname": host}
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def guarded_client(allowed: Sequence[IPNetwork] | None = None, **kwargs: Any) -> httpx.Client:
    """An httpx.Client whose every connection goes through the guard (no environment proxies:
    a proxy would connect on Haven's behalf without the check)."""
    kwargs.setdefault("follow_redirects", False)
    return httpx.Client(transport=GuardedTransport(allowed), trust_env=False, **kwargs)


# --- failures and redaction -------------------------------------------------------------------


def failure_category(exc: BaseException) -> str:
    """What went wrong, without addresses, ports or the server's words."""
    if isinstance(exc, BlockedAddress):
        return "blocked_address"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError | ssl.CertificateError):
            return "tls"
        cause = cause.__cause__ or cause.__context__
    text = str(exc).lower()
    if "ssl" in text or "certificate" in text or "tls" in text:
        return "tls"
    if isinstance(exc, httpx.ConnectError):
        return "refused"
    return "network"


def redact_url(url: str) -> str:
    """The URL with any user:password replaced by `***` and every query value by `***` (query
    names are kept: they say what was configured without saying the secret)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        query = urlencode([(k, "***") for k, _ in parse_qsl(query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


_URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>]+")


def redact_text(text: str) -> str:
    """Every URL in a log line, redacted (`redact_url`)."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
