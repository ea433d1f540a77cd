"""API keys over real HTTP: 401 without a valid key, 403 without the scope, revocation."""

from __future__ import annotations

from haven.core.auth import revoke_integration
from haven.core.db import Database
from haven.core.models import ApiKey
from tests.conftest import LiveServer, make_key


def test_missing_and_bad_keys_get_401(server: LiveServer) -> None:
    with server.client() as c:
        r = c.get("/v1/banks")
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "missing_api_key"
    with server.client("hvn_nope_nope") as c:
        r = c.get("/v1/banks")
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "invalid_api_key"


def test_scope_is_enforced_with_403(server: LiveServer, db: Database) -> None:
    key = make_key(db, ["intake"])
    with server.client(key) as c:
        r = c.get("/v1/banks")
        assert r.status_code == 403
        body = r.json()["error"]
        assert body["code"] == "missing_scope"
        assert body["details"]["required"] == "banks:read"
        lookup = {"hashes": [{"signal_type": "md5", "value": "0" * 32}]}
        assert c.post("/v1/hashes/lookup", json=lookup).status_code == 200


def test_keys_are_stored_only_as_hashes_and_can_be_revoked(server: LiveServer, db: Database) -> None:
    key = make_key(db, ["banks:read"], name="svc")
    secret = key.split("_", 2)[2]
    with db.session() as s:
        stored = [k.secret_sha256 for k in s.query(ApiKey).all()]
    assert secret not in stored and all(len(h) == 64 for h in stored)
    with server.client(key) as c:
        assert c.get("/v1/banks").status_code == 200
        with db.session() as s:
            revoke_integration(s, "svc")
        assert c.get("/v1/banks").status_code == 401


def test_ops_endpoints(server: LiveServer) -> None:
    with server.client() as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        ready = c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["ready"] is True
        metrics = c.get("/metrics")
        assert metrics.status_code == 200 and "python_info" in metrics.text
        assert 'haven_http_requests_total{method="GET",route="/readyz",status="200"}' in metrics.text
