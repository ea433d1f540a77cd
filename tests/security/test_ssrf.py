"""Issue 19 item 6: server-side request forgery through every outbound URL.

Haven must REFUSE non-public addresses; these tests never send traffic anywhere but loopback.
Names are resolved by a patched resolver (`outbound.resolve`), so nothing reaches DNS either; a
public address appears only where Haven checks it without connecting (at registration).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import update

from haven.classify import ClassifierUnavailable, Content
from haven.classify.external import ThornSafer
from haven.core import jobs, outbound
from haven.core.clock import now
from haven.core.db import Database
from haven.core.models import Job
from haven.core.settings import Settings
from haven.cybertip.client import CybertipClient, TransportError
from haven.cybertip.config import CybertipSettings
from haven.enforce import tdb, webhooks
from haven.enforce.models import Delivery
from tests.conftest import LiveServer, free_port, make_key
from tests.enforce.doubles import SECRET, serve

PUBLIC = "93.184.215.14"  # only ever checked, never connected to


@pytest.fixture
def no_private(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default policy: no network allowed beyond public addresses."""
    monkeypatch.setenv(outbound.ENV_ALLOWED, "[]")


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """A fake resolver: name -> answers (consumed in order when several; the last one repeats)."""
    table: dict[str, list[str]] = {}
    calls: list[str] = []

    def fake(host: str, port: int) -> list[Any]:
        calls.append(host)
        answers = table.get(host)
        if not answers:
            raise socket.gaierror(f"no such name {host}")
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return [ipaddress.ip_address(answer)]

    monkeypatch.setattr(outbound, "resolve", fake)
    table["__calls__"] = calls  # type: ignore[assignment]
    return table


REFUSED = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://127.0.0.1:8000/v1/admin",
    "http://[::1]/",
    "http://0.0.0.0:22/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",  # 169.254.169.254, IPv4-mapped
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of the metadata address
    "http://2130706433/",  # decimal 127.0.0.1
    "http://0x7f000001/",  # hex
    "http://0177.0.0.1/",  # octal
    "http://0x7f.0.0.1/",
    "http://127.1/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://localhost:8000/",
    "http://svc.localhost/",
    "https://user:pass@hooks.example.com/h",  # userinfo
    "https://hooks.example.com@169.254.169.254/",  # userinfo hiding the real host
    "http://internal.example.com/h",  # a public-looking name resolving to a private address
    "http://nowhere.example.com/h",  # does not resolve
    "ftp://hooks.example.com/h",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("url", REFUSED)
def test_check_url_refuses_non_public_and_disguised_targets(url: str, no_private: None, dns: dict) -> None:
    dns["hooks.example.com"] = [PUBLIC]
    dns["internal.example.com"] = ["10.1.2.3"]
    with pytest.raises(outbound.BlockedAddress):
        outbound.check_url(url)


def test_check_url_accepts_a_public_name_and_the_explicit_allowance(no_private: None, dns: dict) -> None:
    dns["hooks.example.com"] = [PUBLIC]
    dns["hooks.corp.example"] = ["10.20.1.5"]
    assert outbound.check_url("https://hooks.example.com/haven?x=1").host == "hooks.example.com"
    with pytest.raises(outbound.BlockedAddress):
        outbound.check_url("https://hooks.corp.example/h")
    allowed = outbound.parse_networks(["10.20.0.0/16"])
    assert outbound.check_url("https://hooks.corp.example/h", allowed).host == "hooks.corp.example"
    # the allowance is exactly that network: the metadata address stays refused
    with pytest.raises(outbound.BlockedAddress):
        outbound.check_url("http://169.254.169.254/", allowed)


def test_webhook_registration_refuses_every_form_with_a_clear_error(
    server: LiveServer, db: Database, no_private: None, dns: dict
) -> None:
    dns["hooks.example.com"] = [PUBLIC]
    dns["internal.example.com"] = ["10.1.2.3"]
    admin = make_key(db, ["admin"])
    with server.client(admin) as a:
        for url in REFUSED:
            r = a.put("/v1/webhook", json={"url": url, "secret": SECRET})
            assert r.status_code == 422, (url, r.status_code, r.text)
            err = r.json()["error"]
            assert err["code"] in ("blocked_webhook_url", "invalid_webhook_url"), (url, err)
            assert err["message"]
        assert a.get("/v1/webhook").json()["url"] is None  # nothing was stored
        r = a.put("/v1/webhook", json={"url": "https://hooks.example.com/haven", "secret": SECRET})
        assert r.status_code == 200, r.text


@contextmanager
def host_recorder() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    app = FastAPI()

    @app.post("/hooks")
    async def hook(request: Request) -> JSONResponse:
        seen.append({"host": request.headers.get("host", ""), "client": request.client.host if request.client else ""})
        return JSONResponse({"ok": True})

    with serve(app) as url:
        yield url, seen


def _queue_one(db: Database, key: str) -> str:
    with db.session() as s:
        row = webhooks.deliver(
            s, "tos.updated", {"version": "1"}, subject_type="terms", subject_id="1", actor="cli", idempotency_key=key
        )
        return row.id


def _run_all(db: Database) -> None:
    for _ in range(3):
        with db.session() as s:
            s.execute(update(Job).where(Job.status == "queued").values(run_at=now() - timedelta(seconds=1)))
        if jobs.work(db, once=True) == 0:
            return


def test_dns_rebinding_after_registration_is_refused_at_connection(
    server: LiveServer, db: Database, no_private: None, dns: dict
) -> None:
    """Registered while the name pointed to a public address; at delivery it points to loopback:
    the connection is refused, nothing reaches the loopback listener, the error is a category."""
    with host_recorder() as (url, seen):
        port = int(url.rsplit(":", 1)[1])
        dns["rebind.example.test"] = [PUBLIC, "127.0.0.1"]
        admin = make_key(db, ["admin"])
        with server.client(admin) as a:
            r = a.put("/v1/webhook", json={"url": f"http://rebind.example.test:{port}/hooks", "secret": SECRET})
            assert r.status_code == 200, r.text
            delivery_id = _queue_one(db, "k-rebind")
            _run_all(db)
            rows = {d["id"]: d for d in a.get("/v1/webhook/deliveries").json()}
        assert seen == []
        assert rows[delivery_id]["status"] == "pending"
        assert rows[delivery_id]["last_error"] == "blocked_address"


def test_connection_goes_to_the_checked_address_with_the_name_as_host(db: Database, dns: dict) -> None:
    """The transport resolves once and connects to that address (loopback is allowed by the test
    fixtures): a second, different answer is never used, and the Host header keeps the name."""
    with host_recorder() as (url, seen):
        port = int(url.rsplit(":", 1)[1])
        dns["pinned.example.test"] = ["127.0.0.1", "10.9.9.9"]
        with db.session() as s:
            webhooks.configure_endpoint(
                s, url=f"http://pinned.example.test:{port}/hooks", secret=SECRET, actor="cli"
            )  # registration consumed the first answer: the next resolution would give 10.9.9.9
        dns["pinned.example.test"] = ["127.0.0.1", "10.9.9.9"]
        _queue_one(db, "k-pinned")
        _run_all(db)
        assert seen == [{"host": f"pinned.example.test:{port}", "client": "127.0.0.1"}]
        assert dns["__calls__"].count("pinned.example.test") == 2  # once at registration, once per connection


def test_delivery_errors_are_categories_not_a_port_scan_oracle(server: LiveServer, db: Database) -> None:
    closed = free_port()  # nothing listens there
    admin = make_key(db, ["admin"])
    with server.client(admin) as a:
        assert a.put("/v1/webhook", json={"url": f"http://127.0.0.1:{closed}/x", "secret": SECRET}).status_code == 200
        delivery_id = _queue_one(db, "k-closed")
        _run_all(db)
        row = {d["id"]: d for d in a.get("/v1/webhook/deliveries").json()}[delivery_id]
    assert row["last_error"] == "refused"
    assert row["last_error"] in outbound.CATEGORIES
    with db.session() as s:
        stored = s.get(Delivery, delivery_id)
        assert stored is not None and stored.last_error == "refused"


def test_failure_categories() -> None:
    assert outbound.failure_category(httpx.ReadTimeout("slow")) == "timeout"
    assert outbound.failure_category(httpx.ConnectError("[Errno 111] Connection refused")) == "refused"
    assert outbound.failure_category(httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED]")) == "tls"
    assert outbound.failure_category(outbound.BlockedAddress("no")) == "blocked_address"
    assert outbound.failure_category(httpx.RemoteProtocolError("eh")) == "network"


# --- the other outbound URLs ------------------------------------------------------------------


@contextmanager
def counting_listener() -> Iterator[tuple[int, list[int]]]:
    """A loopback TCP listener that counts accepted connections (and closes them)."""
    accepted: list[int] = []
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            accepted.append(1)
            conn.close()

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        yield sock.getsockname()[1], accepted
    finally:
        stop.set()
        t.join(timeout=2)
        sock.close()


def test_classifier_adapter_refuses_a_private_service_url(tmp_path, no_private: None) -> None:
    with counting_listener() as (port, accepted):
        url = f"http://127.0.0.1:{port}"
        s = Settings(var_dir=tmp_path, thorn_safer_url=url, thorn_safer_key="k" * 20)
        img = Content.of_image(np.zeros((64, 64, 3), dtype=np.uint8))
        with pytest.raises(ClassifierUnavailable, match="blocked_address"):
            ThornSafer(url, "k" * 20, s).classify(img)
        assert accepted == []


def test_cybertip_outside_test_mode_refuses_a_private_url(no_private: None) -> None:
    with counting_listener() as (port, accepted):
        cfg = CybertipSettings(environment="production", url=f"http://127.0.0.1:{port}", username="u", password="p")
        with CybertipClient(cfg) as c, pytest.raises(TransportError) as info:
            c.status()
        assert info.value.maybe_sent is False
        assert accepted == []


def test_transparency_database_client_refuses_a_private_url(no_private: None) -> None:
    with counting_listener() as (port, accepted):
        client = tdb.TdbClient(f"http://127.0.0.1:{port}", "token")
        with pytest.raises(outbound.BlockedAddress):
            client.submit([{"puid": "x"}])
        with pytest.raises(outbound.BlockedAddress):
            client.exists("x")
        assert accepted == []
