"""Local doubles of the providers, on loopback, validating requests as the providers document:
NCMEC hash sharing XML v2 (Basic auth, from/to, paging `next` with start/size/max, feedback PUT)
and StopNCII (subscription + function key headers, FetchHashes paging, SubmitFeedback)."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lxml import etree

NS = "https://hashsharing.ncmec.org/hashsharing/v2"


@dataclass
class NCMECRecord:
    id: str
    member: int
    fingerprints: dict[str, str]
    kind: str = "image"
    deleted: bool = False
    classification: str | None = "A1"


@dataclass
class NCMECState:
    user: str = "esp-user"
    password: str = "esp-pass"
    records: list[NCMECRecord] = field(default_factory=list)
    page_size: int = 2
    fail_page_once: int | None = None  # 500 on this page number the first time
    raw_body: bytes | None = None  # serve this instead (malformed input)
    stream_bytes: int = 0  # stream this many bytes without Content-Length (a huge answer)
    requests: list[str] = field(default_factory=list)
    feedback: list[tuple[str, bytes]] = field(default_factory=list)
    rate_limit_once: bool = False


def _ncmec_xml(records: list[NCMECRecord], next_url: str) -> bytes:
    root = etree.Element(f"{{{NS}}}queryResult", nsmap={None: NS})
    for kind in ("image", "video"):
        mine = [r for r in records if r.kind == kind]
        if not mine:
            continue
        block = etree.SubElement(root, f"{{{NS}}}{kind}s", count=str(len(mine)), maxTimestamp="2026-12-01T10:00:00Z")
        for r in mine:
            tag = ("deleted" + kind.capitalize()) if r.deleted else kind
            el = etree.SubElement(block, f"{{{NS}}}{tag}")
            etree.SubElement(el, f"{{{NS}}}id").text = r.id
            m = etree.SubElement(el, f"{{{NS}}}member", id=str(r.member))
            m.text = f"Member {r.member}"
            etree.SubElement(el, f"{{{NS}}}timestamp").text = "2026-12-01T09:00:00Z"
            if r.classification and not r.deleted:
                etree.SubElement(el, f"{{{NS}}}classification").text = r.classification
            fps = etree.SubElement(el, f"{{{NS}}}fingerprints")
            for k, v in r.fingerprints.items():
                etree.SubElement(fps, f"{{{NS}}}{k}").text = v
    if next_url:
        paging = etree.SubElement(root, f"{{{NS}}}paging")
        etree.SubElement(paging, f"{{{NS}}}next").text = next_url
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def ncmec_double(state: NCMECState) -> _Server:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _auth_ok(self) -> bool:
            want = "Basic " + base64.b64encode(f"{state.user}:{state.password}".encode()).decode()
            if self.headers.get("Authorization") != want:
                self._send(401, b"<error>unauthorized</error>")
                return False
            return True

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            state.requests.append(self.path)
            if not self._auth_ok():
                return
            parts = urlsplit(self.path)
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path.startswith("/v2/feedback/") and parts.path.endswith("/reasons"):
                body = (
                    f'<feedbackReasons xmlns="{NS}"><availableFeedbackReasons>'
                    '<reason guid="0d2ba2a5-8a4c-4b6b-9a59-1f0e4f1c8f11" name="Not CSAM"/>'
                    "</availableFeedbackReasons></feedbackReasons>"
                ).encode()
                return self._send(200, body)
            if parts.path != "/v2/entries" or "from" not in q or "to" not in q:
                return self._send(400, b"<error>from and to are required</error>")
            if state.rate_limit_once:
                state.rate_limit_once = False
                return self._send(429, b"<error>slow down</error>", {"Retry-After": "7"})
            if state.stream_bytes:
                self.send_response(200)
                self.send_header("Content-Type", "application/xml")
                self.end_headers()
                chunk = b"<" * 65536
                sent = 0
                try:
                    while sent < state.stream_bytes:
                        self.wfile.write(chunk)
                        sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return
            if state.raw_body is not None:
                return self._send(200, state.raw_body)
            start = int(q.get("start", "1"))
            size = int(q.get("size", str(state.page_size)))
            page_no = (start - 1) // state.page_size + 1
            if state.fail_page_once == page_no:
                state.fail_page_once = None
                return self._send(503, b"<error>unavailable</error>")
            chunk_records = state.records[start - 1 : start - 1 + size]
            nxt = ""
            if start - 1 + size < len(state.records):
                window = f"from={q['from']}&to={q['to']}"
                nxt = f"/v2/entries?{window}&start={start + size}&size={size}&max={len(state.records)}"
            self._send(200, _ncmec_xml(chunk_records, nxt))

        def do_PUT(self) -> None:
            if not self._auth_ok():
                return
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.headers.get("Content-Type", "").split(";")[0] != "application/xml":
                return self._send(415, b"<error>xml required</error>")
            try:
                root = etree.fromstring(body)
            except etree.XMLSyntaxError:
                return self._send(400, b"<error>bad xml</error>")
            if root.tag != f"{{{NS}}}feedbackSubmission":
                return self._send(400, b"<error>feedbackSubmission required</error>")
            state.feedback.append((self.path, body))
            self._send(200, b"")

    return _Server(Handler)


@dataclass
class StopNCIIState:
    subscription_key: str = "sub-key"
    fetch_key: str = "fetch-key"
    feedback_key: str = "feedback-key"
    pages: list[list[dict[str, Any]]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)


def stopncii_double(state: StopNCIIState) -> _Server:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _json(self, status: int, obj: Any) -> None:
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _keys_ok(self, function_key: str) -> bool:
            if self.headers.get("Ocp-Apim-Subscription-Key") != state.subscription_key:
                self._json(401, {"message": "Access denied due to missing subscription key"})
                return False
            if self.headers.get("x-functions-key") != function_key:
                self._json(401, {"message": "bad function key"})
                return False
            return True

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != "/FetchHashes":
                return self._json(404, {})
            if not self._keys_ok(state.fetch_key):
                return
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if "startTimestamp" not in q or "pageSize" not in q:
                return self._json(400, {"message": "startTimestamp and pageSize required"})
            idx = int(q.get("nextPageToken", "0"))
            records = state.pages[idx] if idx < len(state.pages) else []
            more = idx + 1 < len(state.pages)
            self._json(
                200,
                {
                    "count": len(records),
                    "nextPageToken": str(idx + 1) if more else None,
                    "nextSetTimestamp": 1_790_000_000,
                    "hasMoreRecords": more,
                    "hashRecords": records,
                },
            )

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/SubmitFeedback":
                return self._json(404, {})
            if not self._keys_ok(state.feedback_key):
                return
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            if body.get("count") != len(body.get("hashFeedbacks", [])):
                return self._json(400, {"message": "count mismatch"})
            state.feedback.extend(body["hashFeedbacks"])
            self._json(200, {})

    return _Server(Handler)
