"""Item 19.9 (the input ones): deeply nested `metadata` is a 422, 422 messages carry no Python
reprs or object addresses; item 19.7 on input: `content_type` must be a MIME type."""

from __future__ import annotations

import json
import re

from tests.conftest import LiveServer
from tests.helpers import encode, sample

REPR = re.compile(r"0x[0-9a-fA-F]{6,}|<class |object at ")


def _jpeg() -> bytes:
    return encode(sample("astronaut").resize((64, 64)))


def test_deeply_nested_metadata_is_422(server: LiveServer, api_key: str) -> None:
    with server.client(api_key) as c:
        for depth in (1000, 5000):
            r = c.post("/v1/content", files={"file": ("a.jpg", _jpeg())}, data={"metadata": "[" * depth + "]" * depth})
            assert r.status_code == 422, r.text
            assert r.json()["error"]["code"] == "invalid_metadata"
            assert "nested" in r.json()["error"]["message"]


def test_422_messages_carry_no_python_reprs(server: LiveServer, api_key: str) -> None:
    with server.client(api_key) as c:
        r = c.post("/v1/content", data={"file": "not a file", "metadata": "{}"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_request"
    assert not REPR.search(r.text), r.text
    assert "UploadFile" in r.json()["error"]["message"]  # still says what was expected


def test_content_type_must_be_a_mime_type(server: LiveServer, api_key: str) -> None:
    with server.client(api_key) as c:
        for bad in ("image/jpeg\r\nX-Injected: yes", "image/jpeg\n", "text/html\x00", "jpeg", 'image/"x"'):
            meta = json.dumps({"content_type": bad})
            r = c.post("/v1/content", files={"file": ("a.jpg", _jpeg())}, data={"metadata": meta})
            assert r.status_code == 422, (bad, r.text)
            assert r.json()["error"]["code"] == "invalid_metadata"
            assert r.json()["error"]["message"].startswith("metadata.content_type")
        for good in ("image/jpeg", "image/svg+xml", "video/mp4; codecs=avc1"):
            meta = json.dumps({"content_type": good})
            r = c.post("/v1/content", files={"file": ("a.jpg", _jpeg())}, data={"metadata": meta})
            assert r.status_code == 200, (good, r.text)
