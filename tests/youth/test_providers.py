"""Provider adapters: a blueprint presentation signed by a key the test makes verifies against
the configured trust anchor, a forged one (other key, altered disclosure, unknown issuer) is
refused with a code and nothing stored; a provider webhook with a wrong signature is 401; Apple's
and Google's forwarded results map to bands and levels."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from sqlalchemy import func, select

from haven.core.db import Database
from haven.youth import providers
from haven.youth.models import AgeSignal
from tests.conftest import LiveServer

ISSUER = "https://issuer.example.eu"


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _presentation(
    key: ec.EllipticCurvePrivateKey, over: bool, *, iss: str = ISSUER, exp_in: int = 3600, tamper: bool = False
) -> str:
    disclosure = _b64(json.dumps(["salt-1", "age_over_18", over]).encode())
    claims = {
        "iss": iss,
        "iat": int(time.time()) - 10,
        "exp": int(time.time()) + exp_in,
        "vct": "eu.europa.ec.av.1",
        "_sd": [_b64(hashlib.sha256(disclosure.encode()).digest())],
    }
    h = _b64(json.dumps({"alg": "ES256", "typ": "dc+sd-jwt"}).encode())
    p = _b64(json.dumps(claims).encode())
    r, s = decode_dss_signature(key.sign(f"{h}.{p}".encode(), ec.ECDSA(hashes.SHA256())))
    sig = _b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    if tamper:
        disclosure = _b64(json.dumps(["salt-1", "age_over_18", not over]).encode())
    return f"{h}.{p}.{sig}~{disclosure}~"


@pytest.fixture
def issuer_key(monkeypatch: pytest.MonkeyPatch) -> ec.EllipticCurvePrivateKey:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    monkeypatch.setenv("HAVEN_YOUTH_TRUST_ANCHORS", json.dumps({ISSUER: pem.decode()}))
    monkeypatch.setenv("HAVEN_YOUTH_PROVIDER_SECRETS", json.dumps({"yoti": "whsec-test-1"}))
    providers.provider_settings.cache_clear()
    yield key
    providers.provider_settings.cache_clear()


def _count(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(AgeSignal)) or 0)


def test_blueprint_presentations(server: LiveServer, db: Database, api_key: str, issuer_key) -> None:
    c = server.client(api_key)
    forger = ec.generate_private_key(ec.SECP256R1())
    bad = [
        (_presentation(forger, True), "signature_invalid"),
        (_presentation(issuer_key, False, tamper=True), "signature_invalid"),
        (_presentation(issuer_key, True, iss="https://evil.example"), "untrusted_issuer"),
        (_presentation(issuer_key, True, exp_in=-60), "signal_expired"),
        ("not-a-presentation", "presentation_invalid"),
    ]
    for token, code in bad:
        r = c.post("/v1/accounts/eu-1/age-signals/eu-blueprint", json={"presentation": token})
        assert r.status_code == 422 and r.json()["error"]["code"] == code, (code, r.text)
    assert _count(db) == 0
    ok = c.post("/v1/accounts/eu-1/age-signals/eu-blueprint", json={"presentation": _presentation(issuer_key, True)})
    assert ok.status_code == 201, ok.text
    assert ok.json()["assured"] == {"age_band": "adult", "level": "strict", "method": "digital_identity"}
    # GB asks an adult for level enhanced: a strict result satisfies it.
    assert c.get("/v1/accounts/eu-1/protections", params={"region": "GB"}).json()["access"] == "allowed"


def test_provider_webhook_signatures(server: LiveServer, db: Database, issuer_key) -> None:
    body = json.dumps(
        {
            "account_id": "w-1",
            "result": {
                "method": "facial_estimation",
                "provider": "age-est",
                "level": "enhanced",
                "under": 16,
                "observed_at": "2026-12-01T09:00:00Z",
            },
        }
    ).encode()
    ts = int(time.time())
    good = hmac.new(b"whsec-test-1", f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    with server.client() as c:
        for header, code in [
            (f"t={ts},v1={'0' * 64}", "signature_invalid"),
            (None, "signature_invalid"),
            (f"t={ts - 3600},v1={good}", "signature_stale"),
        ]:
            h = {"content-type": "application/json", **({"haven-provider-signature": header} if header else {})}
            r = c.post("/hooks/age-providers/yoti", content=body, headers=h)
            assert r.status_code == 401 and r.json()["error"]["code"] == code, r.text
        r = c.post(
            "/hooks/age-providers/nobody", content=body, headers={"haven-provider-signature": f"t={ts},v1={good}"}
        )
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_provider"
        assert _count(db) == 0
        r = c.post(
            "/hooks/age-providers/yoti",
            content=body,
            headers={"content-type": "application/json", "haven-provider-signature": f"t={ts},v1={good}"},
        )
    assert r.status_code == 201, r.text
    assert r.json()["assured"]["age_band"] == "13_15" and r.json()["assured"]["method"] == "facial_estimation"


def test_os_results(server: LiveServer, api_key: str) -> None:
    c = server.client(api_key)
    r = c.post(
        "/v1/accounts/ios-1/age-signals/apple",
        json={"status": "sharing", "lowerBound": 13, "upperBound": 15, "ageRangeDeclaration": "guardianDeclared"},
    )
    assert r.status_code == 201 and r.json()["assured"] == {
        "age_band": "13_15",
        "level": "standard",
        "method": "os_declared_range",
    }
    r = c.post("/v1/accounts/ios-2/age-signals/apple", json={"status": "declinedSharing"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "age_not_shared"
    r = c.post("/v1/accounts/and-1/age-signals/google", json={"userStatus": "VERIFIED"})
    assert r.status_code == 201 and r.json()["assured"]["age_band"] == "adult"
    r = c.post(
        "/v1/accounts/and-2/age-signals/google", json={"userStatus": "SUPERVISED", "ageLower": 16, "ageUpper": 17}
    )
    assert r.json()["assured"]["age_band"] == "16_17"
    r = c.post("/v1/accounts/and-3/age-signals/google", json={"userStatus": "UNKNOWN"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "no_age_signal"
    assert c.post("/v1/accounts/x/age-signals/palm", json={}).json()["error"]["code"] == "unknown_adapter"
