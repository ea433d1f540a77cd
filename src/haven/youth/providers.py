"""Provider adapters behind one protocol: each takes the provider's own result payload, checks
it as the provider documents it, and gives a `SignalInput` (a result only) or raises a 4xx.

- `apple_declared_age_range`: the result of Apple's Declared Age Range request as the app
  forwards it (`status` sharing/declinedSharing, `lowerBound`, `upperBound`,
  `ageRangeDeclaration`). It is not signed (it comes from the device), so its level is
  asserted (self-declared) or standard (declared or checked by a guardian or another method).
- `google_play_age_signals`: Google Play Age Signals' `AgeSignalsResult` as the app forwards it
  (`userStatus` VERIFIED / SUPERVISED / ..., `ageLower`, `ageUpper`).
- `eu_blueprint`: a presentation from the EU age-verification blueprint app as an SD-JWT VC: an
  ES256 issuer-signed JWT whose disclosures include `age_over_18`; the signature is checked
  against the issuer's key among the configured trust anchors, with `exp`, and every disclosure
  against the `_sd` digests.
- signed webhooks of commercial providers (Yoti, k-ID, ...): HMAC-SHA256 over
  `"<timestamp>.<body>"` with the provider's secret, `t=<unix>,v1=<hex>` in the provider's
  signature header, five minutes' tolerance; the body is `{account_id, result: {...}}`.

Keys and secrets come from the environment (`HAVEN_YOUTH_TRUST_ANCHORS`,
`HAVEN_YOUTH_PROVIDER_SECRETS`), never from code or the database in clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from haven.core.clock import now
from haven.core.errors import HavenError, Invalid, Unauthorized
from haven.youth.service import SignalInput

TOLERANCE_SECONDS = 300


class ProviderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAVEN_YOUTH_", env_file=None, extra="ignore")

    #: JSON: {issuer: PEM public key} of the issuers of EU age-verification attestations.
    trust_anchors: dict[str, str] = {}
    #: JSON: {provider: webhook secret} of commercial age-assurance providers.
    provider_secrets: dict[str, SecretStr] = {}


@lru_cache(maxsize=1)
def provider_settings() -> ProviderSettings:
    return ProviderSettings()


class Rejected(HavenError):
    """A provider payload that does not verify: nothing is stored."""

    status_code = 422
    code = "provider_result_invalid"


class AgeProvider(Protocol):
    name: str
    method: str

    def verify(self, payload: Mapping[str, Any]) -> SignalInput: ...


def _int(v: Any, field: str) -> int | None:
    if v is None:
        return None
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 150:
        raise Rejected(f"{field} must be a whole age", code="provider_result_invalid")
    return v


class AppleDeclaredAgeRange:
    name = "apple"
    method = "os_declared_range"
    CHECKED = {
        "guardianDeclared",
        "checkedByOtherMethod",
        "guardianCheckedByOtherMethod",
        "governmentIDChecked",
        "guardianGovernmentIDChecked",
        "paymentChecked",
        "guardianPaymentChecked",
    }

    def verify(self, payload: Mapping[str, Any]) -> SignalInput:
        status = payload.get("status")
        if status == "declinedSharing":
            raise Rejected("the user declined to share an age range", code="age_not_shared")
        if status != "sharing":
            raise Rejected("status must be sharing or declinedSharing")
        lo, hi = _int(payload.get("lowerBound"), "lowerBound"), _int(payload.get("upperBound"), "upperBound")
        if lo is None and hi is None:
            raise Rejected("an age range needs lowerBound or upperBound")
        decl = payload.get("ageRangeDeclaration")
        if decl != "selfDeclared" and decl not in self.CHECKED:
            raise Rejected("unknown ageRangeDeclaration")
        return SignalInput(
            method=self.method,
            provider="apple.declared_age_range",
            level="asserted" if decl == "selfDeclared" else "standard",
            observed_at=now(),
            over=lo if lo else None,
            under=hi + 1 if hi is not None else None,
        )


class GooglePlayAgeSignals:
    name = "google"
    method = "os_declared_range"

    def verify(self, payload: Mapping[str, Any]) -> SignalInput:
        status = payload.get("userStatus")
        if status == "VERIFIED":
            return SignalInput(
                method=self.method, provider="google.play_age_signals", level="standard", observed_at=now(), over=18
            )
        if status in ("SUPERVISED", "SUPERVISED_APPROVAL_PENDING", "SUPERVISED_APPROVAL_DENIED"):
            lo, hi = _int(payload.get("ageLower"), "ageLower"), _int(payload.get("ageUpper"), "ageUpper")
            if lo is None or hi is None or hi < lo:
                raise Rejected("a supervised user's result needs ageLower <= ageUpper")
            return SignalInput(
                method=self.method,
                provider="google.play_age_signals",
                level="standard",
                observed_at=now(),
                over=lo or None,
                under=hi + 1,
            )
        if status in ("UNKNOWN", "", None):
            raise Rejected("Google Play has no age signal for this user", code="no_age_signal")
        raise Rejected("unknown userStatus")


def _b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _b64e(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class EUBlueprintVerifier:
    """An SD-JWT VC presentation `<issuer-jwt>~<disclosure>~...~[<kb-jwt>]` carrying `age_over_18`."""

    name = "eu_blueprint"
    method = "digital_identity"

    def __init__(self, trust_anchors: Mapping[str, str] | None = None) -> None:
        self._anchors = trust_anchors

    def anchors(self) -> Mapping[str, str]:
        return self._anchors if self._anchors is not None else provider_settings().trust_anchors

    def verify(self, payload: Mapping[str, Any]) -> SignalInput:
        token = payload.get("presentation")
        if not isinstance(token, str) or "~" not in token or len(token) > 64_000:
            raise Rejected("presentation must be an SD-JWT (issuer JWT~disclosures~)", code="presentation_invalid")
        jwt, *disclosures = token.split("~")
        try:
            h64, p64, s64 = jwt.split(".")
            header, claims = json.loads(_b64d(h64)), json.loads(_b64d(p64))
            sig = _b64d(s64)
        except (ValueError, json.JSONDecodeError):
            raise Rejected("the issuer JWT is not a JWS", code="presentation_invalid") from None
        if not isinstance(header, dict) or header.get("alg") != "ES256" or len(sig) != 64:
            raise Rejected("only ES256-signed attestations are accepted", code="presentation_invalid")
        iss = claims.get("iss") if isinstance(claims, dict) else None
        pem = self.anchors().get(str(iss))
        if pem is None:
            raise Rejected(f"issuer {iss!r} is not among the trust anchors", code="untrusted_issuer")
        key = serialization.load_pem_public_key(pem.encode())
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise Rejected("trust anchor is not an EC key", code="untrusted_issuer")
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        try:
            key.verify(der, f"{h64}.{p64}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise Rejected("the attestation's signature does not verify", code="signature_invalid") from None
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp <= now().timestamp():
            raise Rejected("the attestation has expired", code="signal_expired")
        digests = set(claims.get("_sd") or [])
        found: dict[str, Any] = {}
        for d in disclosures:
            if not d or d.count(".") == 2:  # the trailing empty part, or a key-binding JWT
                continue
            if _b64e(hashlib.sha256(d.encode()).digest()) not in digests:
                raise Rejected("a disclosure is not covered by the issuer's signature", code="signature_invalid")
            try:
                _salt, name, value = json.loads(_b64d(d))
            except (ValueError, json.JSONDecodeError):
                raise Rejected("a disclosure does not decode", code="presentation_invalid") from None
            found[str(name)] = value
        over = found.get("age_over_18", claims.get("age_over_18"))
        if not isinstance(over, bool):
            raise Rejected("the presentation discloses no age_over_18", code="presentation_invalid")
        observed = datetime.fromtimestamp(int(claims.get("iat", now().timestamp())), UTC)
        return SignalInput(
            method=self.method,
            provider=f"eu_blueprint:{iss}",
            level="strict",
            observed_at=min(observed, now()),
            expires_at=datetime.fromtimestamp(int(exp), UTC),
            over=18 if over else None,
            under=None if over else 18,
        )


def verify_webhook(provider: str, body: bytes, header: str | None, *, at: float | None = None) -> None:
    """Check a provider webhook's `t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` signature (401)."""
    secret = provider_settings().provider_secrets.get(provider)
    if secret is None:
        raise Invalid(
            f"no webhook secret is configured for provider '{provider}'", code="unknown_provider", status_code=404
        )
    parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
    try:
        ts = int(parts.get("t", ""))
    except ValueError:
        raise Unauthorized("missing or malformed signature header", code="signature_invalid") from None
    if abs((at or time.time()) - ts) > TOLERANCE_SECONDS:
        raise Unauthorized("the signature's timestamp is outside the tolerance", code="signature_stale")
    want = hmac.new(secret.get_secret_value().encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, parts.get("v1", "")):
        raise Unauthorized("the webhook signature does not verify", code="signature_invalid")


ADAPTERS: dict[str, AgeProvider] = {
    "apple": AppleDeclaredAgeRange(),
    "google": GooglePlayAgeSignals(),
    "eu-blueprint": EUBlueprintVerifier(),
}
