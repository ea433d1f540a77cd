"""Local doubles of the providers, on loopback, validating requests as the providers document:
NCMEC hash sharing XML v2 (Basic auth, from/to, paging `next` with start/size/max, feedback PUT),
StopNCII (subscription + function key headers, FetchHashes paging, SubmitFeedback) and Meta
ThreatExchange (Graph API: access_token, cursor paging, error JSON, throttling, reactions)."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

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
    requests: list[dict[str, str]] = field(default_factory=list)
    fail_page_once: int | None = None  # HTTP 503 on this page index the first time


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
            state.requests.append(q)
            idx = int(q.get("nextPageToken", "0"))
            if state.fail_page_once == idx:
                state.fail_page_once = None
                return self._json(503, {"message": "Service Unavailable"})
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


# --- Meta ThreatExchange (Graph API) -------------------------------------------------------------

#: The reaction types the Graph API's ThreatExchange reacting reference lists.
TE_REACTIONS = {"HELPFUL", "NOT_HELPFUL", "OUTDATED", "SAW_THIS_TOO", "WANT_MORE_INFO", "DISAGREE_WITH_TAGS"}


@dataclass
class TEIndicator:
    id: str
    type: str  # HASH_PDQ, HASH_VIDEO_MD5, HASH_TMK, ...
    indicator: str
    last_updated: int
    #: descriptor id -> (owner app id, tags, status); empty when every descriptor was deleted
    descriptors: dict[str, tuple[str, list[str], str]] = field(default_factory=dict)
    should_delete: bool = False
    #: True: the update has no `descriptors` field (a tombstone, ThreatExchange issue #834)
    omit_descriptors: bool = False


@dataclass
class TEState:
    token: str = "1234567890|app-secret-abcdefghijklmnopqrstuvwxyz"
    privacy_group: str = "303636684709969"
    updates: list[TEIndicator] = field(default_factory=list)
    throttle_once: bool = False
    fail_page_once: int | None = None  # HTTP 500 (Graph code 2) on this page number the first time
    requests: list[dict[str, str]] = field(default_factory=list)
    reactions: list[tuple[str, str]] = field(default_factory=list)


def _graph_error(code: int, kind: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEf123", **extra}}


def threatexchange_double(state: TEState) -> _Server:
    """`GET /{privacy group}/threat_updates/` and `POST /{descriptor id}/` as the Graph API
    answers them: `access_token` checked on every call (error 190 otherwise), cursor paging
    (`paging.cursors.after`, `paging.next` carrying the query and token; a cursor is valid only
    with the query it came from), updates within [start_time, stop_time], Graph error JSON, and
    throttling with HTTP 429, error 4 and `x-business-use-case-usage`."""

    def query_key(q: dict[str, str]) -> str:
        return "|".join(q.get(k, "") for k in ("start_time", "stop_time", "limit", "fields", "types"))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _token_ok(self, q: dict[str, str]) -> bool:
            if q.get("access_token") != state.token:
                self._json(
                    400, _graph_error(190, "OAuthException", "Invalid OAuth access token - Cannot parse access token")
                )
                return False
            return True

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            state.requests.append(q)
            if not self._token_ok(q):
                return
            if parts.path.rstrip("/") != f"/{state.privacy_group}/threat_updates":
                return self._json(
                    400,
                    _graph_error(
                        100,
                        "GraphMethodException",
                        f"Unsupported get request. Object with ID '{parts.path}' does not exist",
                    ),
                )
            if state.throttle_once:
                state.throttle_once = False
                usage = {
                    "1234567890": [
                        {
                            "type": "threat_exchange",
                            "call_count": 100,
                            "total_cputime": 30,
                            "total_time": 40,
                            "estimated_time_to_regain_access": 2,
                        }
                    ]
                }
                return self._json(
                    429,
                    _graph_error(4, "OAuthException", "(#4) Application request limit reached", is_transient=True),
                    {"x-business-use-case-usage": json.dumps(usage), "x-app-usage": '{"call_count":100}'},
                )
            fields = set(q.get("fields", "").replace("{", ",").replace("}", ",").split(","))
            missing = {"id", "indicator", "type", "should_delete", "last_updated", "descriptors"} - fields
            try:
                start, stop, limit = int(q["start_time"]), int(q["stop_time"]), int(q.get("limit", "25"))
            except (KeyError, ValueError):
                return self._json(
                    400, _graph_error(100, "OAuthException", "(#100) start_time and stop_time are required")
                )
            if missing or not 1 <= limit <= 1000:
                return self._json(
                    400, _graph_error(100, "OAuthException", f"(#100) bad fields/limit: {sorted(missing)}")
                )
            offset = 0
            if "after" in q:
                try:
                    cursor = json.loads(base64.urlsafe_b64decode(q["after"]))
                    offset = int(cursor["o"])
                    if cursor["q"] != query_key(q):
                        raise ValueError("cursor of another query")
                except (ValueError, KeyError, TypeError):
                    return self._json(400, _graph_error(100, "OAuthException", "(#100) Invalid cursor"))
            page_no = offset // limit + 1
            if state.fail_page_once == page_no:
                state.fail_page_once = None
                return self._json(
                    500, _graph_error(2, "OAuthException", "An unexpected error has occurred.", is_transient=True)
                )
            window = sorted(
                (u for u in state.updates if start <= u.last_updated <= stop), key=lambda u: (u.last_updated, u.id)
            )
            chunk = window[offset : offset + limit]
            data = []
            for u in chunk:
                row: dict[str, Any] = {
                    "id": u.id,
                    "indicator": u.indicator,
                    "type": u.type,
                    "last_updated": str(u.last_updated),
                    "should_delete": u.should_delete,
                }
                if not u.omit_descriptors:
                    row["descriptors"] = {
                        "data": [
                            {"id": d, "owner": {"id": owner}, "tags": tags, "status": status, "reactions": []}
                            for d, (owner, tags, status) in u.descriptors.items()
                        ]
                    }
                data.append(row)
            body: dict[str, Any] = {"data": data}
            if chunk:

                def cur(o: int) -> str:
                    return base64.urlsafe_b64encode(json.dumps({"o": o, "q": query_key(q)}).encode()).decode()

                body["paging"] = {"cursors": {"before": cur(offset), "after": cur(offset + len(chunk))}}
                if offset + len(chunk) < len(window):
                    nq = {k: v for k, v in q.items() if k != "after"} | {"after": cur(offset + len(chunk))}
                    body["paging"]["next"] = f"http://{self.headers['Host']}{parts.path}?{urlencode(nq)}"
            self._json(200, body)

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if not self._token_ok(q | form):
                return
            td = parts.path.strip("/")
            known = {d for u in state.updates for d in u.descriptors}
            if td not in known:
                return self._json(
                    400, _graph_error(100, "GraphMethodException", f"Object with ID '{td}' does not exist")
                )
            reaction = form.get("reactions") or q.get("reactions")
            if reaction not in TE_REACTIONS:
                return self._json(400, _graph_error(100, "OAuthException", f"(#100) invalid reactions '{reaction}'"))
            state.reactions.append((td, reaction))
            self._json(200, {"success": True})

    return _Server(Handler)
