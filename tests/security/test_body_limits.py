"""Item 19.4: request bodies are not read before the API key is checked, and are capped per
route (413 from Content-Length, or counted while they stream), over a real HTTP server."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

from tests.conftest import LiveServer

HUGE = 300 * 1024 * 1024


def _raw(server: LiveServer, head: str, first_chunk: bytes, timeout: float = 3.0) -> tuple[float, bytes]:
    """Send the request head and only the start of the body, then read what the server answers."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        started = time.monotonic()
        sock.sendall(head.encode() + first_chunk)
        data = b""
        try:
            while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
                got = sock.recv(65536)
                if not got:
                    break
                data += got
        except TimeoutError:
            pass
        return time.monotonic() - started, data


def test_unauthenticated_huge_body_is_refused_before_it_is_read(server: LiveServer) -> None:
    for path in ("/v1/hashes/lookup", "/v1/messages", "/v1/content"):
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {HUGE}\r\n\r\n"
        elapsed, answer = _raw(server, head, b'{"hashes": [' + b"1," * 100_000)
        assert answer.startswith(b"HTTP/1.1 401"), (path, answer[:200])
        assert b'"code":"missing_api_key"' in answer.replace(b" ", b"")
        assert elapsed < 2.0


def test_bad_key_with_huge_body_is_401_without_reading(server: LiveServer) -> None:
    head = (
        "POST /v1/hashes/lookup HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer hvn_nope_nope\r\n"
        f"Content-Type: application/json\r\nContent-Length: {HUGE}\r\n\r\n"
    )
    elapsed, answer = _raw(server, head, b"[" * 1000)
    assert answer.startswith(b"HTTP/1.1 401") and b"invalid_api_key" in answer
    assert elapsed < 2.0


def test_authenticated_oversized_json_is_413_from_content_length(server: LiveServer, api_key: str) -> None:
    head = (
        f"POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {api_key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {HUGE}\r\n\r\n"
    )
    elapsed, answer = _raw(server, head, b"{")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b'"code":"payload_too_large"' in answer.replace(b" ", b"") and b"max_bytes" in answer
    assert elapsed < 2.0


def test_streamed_body_without_length_is_counted(server: LiveServer, api_key: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"hashes": ['
        for _ in range(40):  # 40 x 64 KiB = 2.5 MiB of JSON, over the 1 MiB JSON cap
            yield b'{"signal_type": "md5", "value": "' + b"0" * 32 + b'"},' * 1 + b" " * 65000
        yield b"]}"

    with server.client(api_key) as c:
        r = c.post("/v1/hashes/lookup", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json()["error"]["code"] == "payload_too_large"


def test_small_bodies_still_work(server: LiveServer, api_key: str) -> None:
    with server.client(api_key) as c:
        r = c.post("/v1/hashes/lookup", json={"hashes": [{"signal_type": "md5", "value": "0" * 32}]})
        assert r.status_code == 200, r.text
        r = c.post("/v1/hashes/lookup", json={"hashes": []})
        assert r.status_code == 422
