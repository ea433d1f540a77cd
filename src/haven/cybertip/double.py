"""A faithful local double of the CyberTipline Reporting API (`haven dev cybertip-double`).

It implements the documented endpoints under `/ispws` with HTTP Basic auth (401 with an empty
body on a bad login), validates `<report>` and `<fileDetails>` against Haven's shipped XSD
(4100 on schema errors, 4110 on malformed XML), returns the documented response documents and
codes, puts a `Request-ID` header on every response, deletes unfinished reports 24 h after
opening or 1 h after the last change (by `haven.core.clock.now()`, so tests can freeze it),
and can be told to fail the ways the real one does: a response code (1xxx, 3xxx ...), a
timeout with no effect, a response lost after the effect, or an HTTP 500.

Control endpoints for tests and demos (not part of NCMEC's API): `GET /_double/reports`,
`POST /_double/faults` with `[{"endpoint", "kind", "code", "delay", "times"}]`, `POST /_double/reset`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from lxml import etree

from haven.core.clock import now
from haven.cybertip.xml import SHIPPED_XSD, response_document, validation_errors

DESCRIPTIONS = {
    0: "Success",
    1000: "Server error",
    1100: "Save failed",
    1110: "Upload failed",
    1111: "File upload failed",
    1210: "Resource not found",
    1300: "Update failed",
    2000: "Authentication required",
    3000: "User not authorized for this action",
    3100: "No authorization to make submissions",
    4000: "Invalid request",
    4100: "Validation failed",
    4110: "Malformed XML submittal",
    4200: "Malformed file submittal",
    5001: "Report does not exist",
    5002: "File does not exist",
    5101: "Report already retracted",
    5102: "Report already finished",
}


@dataclass
class DoubleFile:
    file_id: str
    name: str
    md5: str
    size: int
    details: str | None = None


@dataclass
class DoubleReport:
    report_id: str
    xml: str
    opened_at: datetime
    last_modified_at: datetime
    status: str = "open"  # open | finished | retracted
    files: dict[str, DoubleFile] = field(default_factory=dict)
    finished_at: datetime | None = None

    def expired(self, t: datetime) -> bool:
        due = max(self.opened_at + timedelta(hours=24), self.last_modified_at + timedelta(hours=1))
        return self.status == "open" and t >= due


@dataclass
class Fault:
    endpoint: str
    kind: str  # code | timeout | lose_response | http_500 | corrupt_upload
    code: int = 1000
    delay: float = 5.0
    times: int = 1


class DoubleState:
    def __init__(self, username: str, password: str, xsd: Path) -> None:
        self.username = username
        self.password = password
        self.xsd = xsd
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.reports: dict[str, DoubleReport] = {}
        self.faults: list[Fault] = []
        self.requests: list[dict[str, Any]] = []
        self._ids = itertools.count(4564654)

    def next_id(self) -> str:
        return str(next(self._ids))

    def take_fault(self, endpoint: str) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if f.endpoint in (endpoint, "*") and f.times > 0:
                    f.times -= 1
                    return f
        return None

    def finished(self) -> list[DoubleReport]:
        return [r for r in self.reports.values() if r.status == "finished"]


def create_double(username: str, password: str, xsd: Path = SHIPPED_XSD) -> FastAPI:
    """The double as an ASGI app; `app.state.double` is its state (reports, faults)."""
    state = DoubleState(username, password, xsd)
    app = FastAPI(title="CyberTipline API double", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.double = state

    def rid() -> dict[str, str]:
        return {"Request-ID": uuid.uuid4().hex}

    def xml(code: int, **kw: Any) -> Response:
        status = 200 if code == 0 else 500 if 1000 <= code < 2000 else 403 if 2000 <= code < 4000 else 400
        body = response_document(code, None if "done_files" in kw else DESCRIPTIONS.get(code, "Error"), **kw)
        return Response(body, status_code=status, media_type="text/xml", headers=rid())

    def authorised(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, pw = base64.b64decode(token).decode().partition(":")
        except Exception:
            return False
        return secrets.compare_digest(user, state.username) and secrets.compare_digest(pw, state.password)

    def live(report_id: str | None) -> DoubleReport | None:
        r = state.reports.get(report_id or "")
        if r is not None and r.expired(now()):
            del state.reports[r.report_id]  # NCMEC deletes unfinished reports
            return None
        return r

    async def guarded(request: Request, endpoint: str, effect: Any) -> Response:
        if not authorised(request):
            return Response(b"", status_code=401, headers={**rid(), "WWW-Authenticate": 'Basic realm="ispws"'})
        state.requests.append({"endpoint": endpoint, "at": now().isoformat()})
        for stale in [r for r in state.reports.values() if r.expired(now())]:
            del state.reports[stale.report_id]  # NCMEC deletes unfinished reports by itself
        fault = state.take_fault(endpoint)
        if fault is not None and fault.kind == "code":
            return xml(fault.code)
        if fault is not None and fault.kind == "http_500":
            return Response(b"Internal Server Error", status_code=500, media_type="text/plain", headers=rid())
        if fault is not None and fault.kind == "timeout":
            await asyncio.sleep(fault.delay)
            return xml(1000)
        request.state.fault = fault
        response: Response = await effect()
        if fault is not None and fault.kind == "lose_response":
            await asyncio.sleep(fault.delay)  # the client gives up; the effect stands
        return response

    @app.get("/ispws/status")
    async def status(request: Request) -> Response:
        async def effect() -> Response:
            body = response_document(
                0, f"Remote User : {state.username}, Remote Ip : {request.client.host if request.client else ''}"
            )
            return Response(body, media_type="text/xml", headers=rid())

        return await guarded(request, "status", effect)

    @app.get("/ispws/xsd")
    async def get_xsd(request: Request) -> Response:
        async def effect() -> Response:
            return Response(state.xsd.read_bytes(), media_type="text/xml", headers=rid())

        return await guarded(request, "xsd", effect)

    @app.post("/ispws/submit")
    async def submit(request: Request) -> Response:
        async def effect() -> Response:
            if not request.headers.get("content-type", "").startswith("text/xml"):
                return xml(4000)
            body = await request.body()
            errors = validation_errors(body, state.xsd)
            if errors:
                return xml(4110 if errors[0].startswith("malformed") else 4100)
            doc = etree.fromstring(body)
            when = datetime.fromisoformat(doc.findtext("incidentSummary/incidentDateTime", "").replace("Z", "+00:00"))
            if when > now():
                return xml(4100)  # no future dates
            t = now()
            report_id = state.next_id()
            state.reports[report_id] = DoubleReport(report_id, body.decode(), t, t)
            return xml(0, report_id=report_id)

        return await guarded(request, "submit", effect)

    @app.post("/ispws/upload")
    async def upload(request: Request) -> Response:
        async def effect() -> Response:
            try:
                form = await request.form()
            except Exception:
                return xml(4200)
            upload_file = form.get("file")
            report_id = form.get("id")
            if upload_file is None or isinstance(upload_file, str) or not isinstance(report_id, str):
                return xml(4200)
            r = live(report_id)
            if r is None:
                return xml(5001)
            if r.status == "finished":
                return xml(5102)
            if r.status == "retracted":
                return xml(5101)
            data = await upload_file.read()
            fault = getattr(request.state, "fault", None)
            if fault is not None and fault.kind == "corrupt_upload":
                data = data[:-1]  # bytes damaged in transit: the returned hash will not match
            digest = hashlib.md5(data).hexdigest()  # noqa: S324  (the API's integrity hash)
            file_id = uuid.uuid4().hex
            r.files[file_id] = DoubleFile(file_id, upload_file.filename or "file", digest, len(data))
            r.last_modified_at = now()
            return xml(0, report_id=report_id, file_id=file_id, hash=digest)

        return await guarded(request, "upload", effect)

    @app.post("/ispws/fileinfo")
    async def fileinfo(request: Request) -> Response:
        async def effect() -> Response:
            body = await request.body()
            errors = validation_errors(body, state.xsd)
            if errors:
                return xml(4110 if errors[0].startswith("malformed") else 4100)
            doc = etree.fromstring(body)
            r = live(doc.findtext("reportId"))
            if r is None:
                return xml(5001)
            if r.status == "finished":
                return xml(5102)
            if r.status == "retracted":
                return xml(5101)
            f = r.files.get(doc.findtext("fileId") or "")
            if f is None:
                return xml(5002)
            if f.details is not None:
                return xml(4000)  # at most one fileinfo per uploaded file
            f.details = body.decode()
            r.last_modified_at = now()
            return xml(0, report_id=r.report_id)

        return await guarded(request, "fileinfo", effect)

    async def form_id(request: Request) -> str | None:
        try:
            form = await request.form()
        except Exception:
            return None
        v = form.get("id")
        return v if isinstance(v, str) else None

    @app.post("/ispws/finish")
    async def finish(request: Request) -> Response:
        async def effect() -> Response:
            r = live(await form_id(request))
            if r is None:
                return xml(5001)
            if r.status == "finished":
                return xml(5102)
            if r.status == "retracted":
                return xml(5101)
            for f in r.files.values():
                if f.details is None:
                    continue
                d = etree.fromstring(f.details.encode())
                if d.findtext("fileRelevance") == "Supplemental Reported" and (
                    d.find("industryClassification") is not None or d.find("fileAnnotations/potentialMeme") is not None
                ):
                    return xml(4100)
            r.status = "finished"
            r.finished_at = now()
            return xml(0, report_id=r.report_id, done_files=list(r.files))

        return await guarded(request, "finish", effect)

    @app.post("/ispws/retract")
    async def retract(request: Request) -> Response:
        async def effect() -> Response:
            r = live(await form_id(request))
            if r is None:
                return xml(5001)
            if r.status == "finished":
                return xml(5102)
            if r.status == "retracted":
                return xml(5101)
            r.status = "retracted"
            return xml(0, report_id=r.report_id)

        return await guarded(request, "retract", effect)

    @app.get("/_double/reports")
    async def reports() -> JSONResponse:
        return JSONResponse(
            [
                {
                    "report_id": r.report_id,
                    "status": r.status,
                    "opened_at": r.opened_at.isoformat(),
                    "files": [
                        {"file_id": f.file_id, "name": f.name, "md5": f.md5, "size": f.size, "details": f.details}
                        for f in r.files.values()
                    ],
                }
                for r in state.reports.values()
            ]
        )

    @app.post("/_double/faults")
    async def faults(request: Request) -> JSONResponse:
        items = await request.json()
        with state.lock:
            for i in items:
                state.faults.append(
                    Fault(
                        i["endpoint"],
                        i["kind"],
                        int(i.get("code", 1000)),
                        float(i.get("delay", 5.0)),
                        int(i.get("times", 1)),
                    )
                )
        return JSONResponse({"faults": len(state.faults)})

    @app.post("/_double/reset")
    async def reset() -> JSONResponse:
        state.reset()
        return JSONResponse({"ok": True})

    return app
