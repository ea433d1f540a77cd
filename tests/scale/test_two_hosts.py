"""Done means: two `haven serve` processes and one `haven worker` on PostgreSQL with the S3 store
(moto's server on loopback), each process with its own empty var/ folder, so nothing is shared
but the database and the bucket. An upload held by process A is revealed by a reviewer through
process B; a kill -9 of the worker in the middle of its jobs loses nothing and duplicates nothing.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from haven.core import clock
from haven.core.db import Database
from haven.core.models import Job
from haven.core.settings import Settings
from haven.enforce.models import Delivery
from haven.review.models import ReviewTask
from haven.screening.models import QuarantineObject
from tests.conftest import free_port, make_key
from tests.helpers import encode, sample
from tests.review.console_client import ConsoleClient
from tests.review.fixtures import PASSWORD, bank_and_flag, make_staff
from tests.scale.conftest import S3Endpoint
from tests.scale.streams_helpers import wait_until

SRC = Path(__file__).resolve().parents[2] / "src"


class SlowReceiver(http.server.ThreadingHTTPServer):
    """The service's webhook endpoint: answers 200 after a pause (so the worker is caught in the
    middle of a delivery), recording every delivery id it was sent."""

    received: list[str]


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        time.sleep(0.15)
        self.server.received.append(self.headers["Haven-Delivery"])  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[SlowReceiver]:
    srv = SlowReceiver(("127.0.0.1", 0), _Handler)
    srv.received = []
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()


def _env(settings: Settings, s3_settings: Settings, var: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "HAVEN_DATABASE_URL": settings.effective_database_url,
        "HAVEN_VAR_DIR": str(var),
        "HAVEN_STORAGE_URL": s3_settings.storage_url,
        "HAVEN_S3_ENDPOINT_URL": s3_settings.s3_endpoint_url,
        "HAVEN_INLINE_WORKER": "false",
        "HAVEN_LOG_LEVEL": "WARNING",
        "HAVEN_INDEX_REFRESH_SECONDS": "0.2",
    }


def _haven(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "from haven.cli import app; app()", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_two_api_processes_and_a_killed_worker_on_postgres_and_s3(
    backend: str,
    db: Database,
    settings: Settings,
    s3_settings: Settings,
    s3: S3Endpoint,
    receiver: SlowReceiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if backend != "postgres":
        pytest.skip("the scale-out deployment is PostgreSQL's (set HAVEN_TEST_POSTGRES_URL)")
    # One key for every process (a development key file under var/ would differ per host).
    monkeypatch.setenv("HAVEN_QUARANTINE_KEY", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("HAVEN_EVIDENCE_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    from haven.enforce.webhooks import configure_endpoint

    with db.session() as s:
        configure_endpoint(s, url=f"http://127.0.0.1:{receiver.server_address[1]}/hook", secret="s" * 32, actor="test")
    key = make_key(db, ["intake", "banks:write", "banks:read"])
    _, secret = make_staff(db, "cs@example.org", ["child_safety_reviewer"])

    procs: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for name in ("a", "b"):
            port = free_port()
            env = _env(settings, s3_settings, tmp_path / f"var-{name}")
            procs.append(_haven(env, "serve", "--host", "127.0.0.1", "--port", str(port)))
            urls.append(f"http://127.0.0.1:{port}")
        assert wait_until(lambda: all(_ready(u) for u in urls), 60), [p.poll() for p in procs]
        a, b = urls

        # Process A holds uploads: one banked picture, then copies of it (each blocked and
        # quarantined in the bucket, each with its subscriber jobs and webhook deliveries).
        with httpx.Client(base_url=a, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
            original = encode(sample("astronaut"), quality=95)
            first = bank_and_flag(c, original, encode(sample("astronaut").resize((320, 320)), quality=80))
            assert first["verdict"]["action"] == "block"
            copies = [first]
            for i in range(7):
                r = c.post(
                    "/v1/content",
                    files={"file": ("x.jpg", encode(sample("astronaut").resize((300 + i, 300 + i)), quality=70 + i))},
                    data={"metadata": json.dumps({"uploader": f"acct-{i}"})},
                )
                assert r.status_code == 200 and r.json()["verdict"]["action"] == "block", r.text
                copies.append(r.json())
        with db.session() as s:
            refs = s.scalars(select(QuarantineObject.path)).all()
        assert len(refs) == 8 and all(r.startswith(s3_settings.storage_url) for r in refs)
        assert not (tmp_path / "var-a" / "quarantine").exists()  # nothing on A's disk

        # The worker: killed -9 while deliveries and subscriber jobs are in flight.
        worker_env = _env(settings, s3_settings, tmp_path / "var-worker")
        worker = _haven(worker_env, "worker")
        procs.append(worker)

        def done() -> int:
            with db.reading() as s:
                return int(s.scalar(select(func.count()).select_from(Job).where(Job.status == "done")) or 0)

        assert wait_until(lambda: done() >= 5 and len(receiver.received) >= 1, 90), worker.stderr
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        with db.session() as s:
            running = s.scalar(select(func.count()).select_from(Job).where(Job.status == "running")) or 0
            queued = s.scalar(select(func.count()).select_from(Job).where(Job.status == "queued")) or 0
            # The killed worker's leases would run out within a minute (deliveries) or five
            # (subscribers); let them run out now rather than wait.
            s.execute(text("UPDATE jobs SET locked_until = now() - interval '1 second' WHERE status = 'running'"))
        assert running + queued > 0, "the worker finished everything before it was killed"
        worker = _haven(worker_env, "worker")
        procs.append(worker)

        def settled() -> bool:
            with db.reading() as s:
                # Jobs due now: the daily retention sweeps the worker queues at start run in an hour.
                left = s.scalar(
                    select(func.count())
                    .select_from(Job)
                    .where(Job.status.in_(("queued", "running")), Job.run_at <= clock.now())
                )
                pending = s.scalar(select(func.count()).select_from(Delivery).where(Delivery.status != "delivered"))
            return left == 0 and pending == 0

        assert wait_until(settled, 120), worker.stderr

        with db.reading() as s:
            dead = s.execute(select(Job.kind, Job.last_error).where(Job.status == "dead")).all()
            deliveries = s.scalars(select(Delivery.id)).all()
            tasks = s.execute(select(ReviewTask.subject_type, ReviewTask.subject_id)).all()
        assert dead == []  # nothing lost
        assert deliveries and set(receiver.received) == set(deliveries)  # every action reached the service
        # A delivery the kill interrupted may reach the service twice, with the same id (the
        # service drops it by that id); nothing else is sent twice.
        assert sum(n - 1 for n in Counter(receiver.received).values()) <= 1
        assert tasks and len(tasks) == len(set(tasks))  # one review task per subject, however often a job ran

        # A reviewer on process B reveals the file process A quarantined.
        cs = ConsoleClient(b)
        cs.sign_in("cs@example.org", PASSWORD, secret)
        r = cs.post("/console/queues/known_material/next")
        assert r.status_code == 303 and r.headers["location"].startswith("/console/tasks/"), r.text
        task_url = r.headers["location"]
        page = cs.get(task_url).text
        content_id = page.split('data-content="', 1)[1][:26]
        f = cs.get(f"{task_url}/media/{content_id}/file")
        assert f.status_code == 200
        assert f.content in {
            encode(sample("astronaut").resize((320, 320)), quality=80),
            *[encode(sample("astronaut").resize((300 + i, 300 + i)), quality=70 + i) for i in range(7)],
        }
        assert any(c["id"] == content_id for c in copies)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
