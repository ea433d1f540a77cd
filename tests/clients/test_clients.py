"""The generated clients: committed code matches a fresh generation, and each client's own tests
against a real Haven on loopback (the Python client here; the TypeScript client's node tests)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from haven.core.db import Database
from haven.enforce import webhooks
from tests.clients.conftest import ROOT
from tests.conftest import LiveServer, make_key


def _generator():  # scripts/ is not a package
    spec = importlib.util.spec_from_file_location("generate_clients", ROOT / "scripts" / "generate_clients.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_clients_are_what_the_generator_makes_now(ts_client: Path) -> None:
    gen = _generator()
    doc = gen.openapi_document()
    assert gen.OPENAPI.read_text() == gen.dump_document(doc), "clients/openapi.json is stale: run make clients"
    assert gen.PY_OUT.read_text() == gen.python_client(doc), "the Python client is stale: run make clients"
    ts = gen.typescript_types(gen.OPENAPI)
    assert ts is not None and gen.TS_OUT.read_text() == ts, "the TypeScript types are stale: run make clients"
    # And the generated Python covers every operation of the document.
    from haven_client import Client

    names = gen._operation_names(doc)
    assert all(callable(getattr(Client, n, None)) for n in names.values())


def test_python_client_sync_and_async_on_a_real_haven(server: LiveServer, db: Database) -> None:
    from haven_client import AsyncClient, Client, HavenError

    key = make_key(db, ["intake", "banks:read", "banks:write"])
    with Client(server.url, key) as c:
        assert c.healthz() == {"status": "ok"}
        bank = c.create_bank({"name": "py-client", "kind": "known_csam", "default_classification": "A1"})
        assert bank["name"] == "py-client"
        r = c.lookup_hashes({"hashes": [{"signal_type": "md5", "value": "0" * 32}]})
        assert r["results"][0]["verdict"]["action"] == "allow"
        with pytest.raises(HavenError) as err:
            c.get_bank("no-such-bank")
        assert err.value.status == 404 and err.value.code

    async def run() -> list[str]:
        async with AsyncClient(server.url, key) as a:
            banks = await a.list_banks()
            return [b["name"] for b in banks]

    assert "py-client" in asyncio.run(run())
    with Client(server.url, "hvn_bad_key") as bad, pytest.raises(HavenError) as err:
        bad.list_banks()
    assert err.value.status == 401 and err.value.code == "invalid_api_key"


def test_python_client_retries_429_and_503_with_one_idempotency_key() -> None:
    from haven_client import Client

    seen: list[str] = []
    answers = [httpx.Response(503), httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200, json={})]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Idempotency-Key"])
        assert request.content.startswith(b"--")  # the multipart body is sent again in full
        return answers.pop(0)

    with Client("http://haven.test", "k", transport=httpx.MockTransport(handler), backoff=0.001) as c:
        c.submit_content(("a.jpg", b"\xff\xd8data", "image/jpeg"))
    assert len(seen) == 3 and len(set(seen)) == 1
    with (
        Client(
            "http://haven.test",
            "k",
            transport=httpx.MockTransport(lambda r: httpx.Response(503)),
            max_retries=1,
            backoff=0.001,
        ) as c,
        pytest.raises(Exception) as err,
    ):
        c.healthz()
    assert getattr(err.value, "status", None) == 503


def test_verify_webhook_agrees_with_the_standard_webhooks_library() -> None:
    from haven_client import WebhookVerificationError, verify_webhook

    secret = webhooks.generate_secret()
    body = json.dumps({"type": "content.remove"}).encode()
    ts = int(time.time())
    h = webhooks.standard_headers([webhooks.generate_secret(), secret], "msg_9", ts, body)  # rotation: 2 sigs
    assert verify_webhook(secret, h, body) == Webhook(secret).verify(body, h)
    for bad in (body + b" ", body.replace(b"remove", b"restore")):
        with pytest.raises(WebhookVerificationError):
            verify_webhook(secret, h, bad)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret, h, body, now=ts + 301)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret, {k: v for k, v in h.items() if k != "webhook-id"}, body)


def test_typescript_client_tests_on_a_real_haven(server: LiveServer, db: Database, ts_client: Path) -> None:
    env = {**os.environ, "HAVEN_URL": server.url, "HAVEN_API_KEY": make_key(db, ["intake"])}
    done = subprocess.run(
        ["node", "--test", "dist/test/"], cwd=ts_client, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "# pass 5" in done.stdout and "# skipped 0" in done.stdout, done.stdout
