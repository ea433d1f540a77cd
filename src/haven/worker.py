"""`haven worker`: runs queued jobs from the database-backed queue (deliveries, event
subscribers, reports, retention). The API process also runs one in a thread by default
(`HAVEN_INLINE_WORKER`), so a small service needs nothing but `haven serve`.
"""

from __future__ import annotations

import logging
import signal
import threading

from haven.core.db import Database
from haven.core.jobs import work

log = logging.getLogger("haven.worker")


def load_handlers() -> None:
    """Import every module that registers job handlers or ledger subscribers (the manifests')."""
    import haven.models  # noqa: F401  (tables and subscribers)
    from haven.capabilities import CAPABILITIES
    from haven.core.capability import load

    for cap in CAPABILITIES:
        for ref in cap.jobs:
            load(ref)


def _resume(db: Database) -> None:
    from haven.enforce.webhooks import resume_on_start

    try:
        resume_on_start(db)
    except Exception:  # a worker must start even if this check fails (the database may be migrating)
        log.exception("could not resume waiting webhook actions")
    from haven.privacy.sweeps import schedule

    try:  # the daily retention sweeps (one job per data class, each re-queues itself)
        schedule(db, delay_seconds=3600)  # not in the way of a starting service
    except Exception:
        log.exception("could not queue the retention sweeps")
    from haven.finance.jobs import schedule as schedule_prune

    try:  # expired aggregate buckets (hourly, bounded; re-queues itself)
        schedule_prune(db, delay_seconds=600)
    except Exception:
        log.exception("could not queue the finance bucket pruning")


def run(db: Database, *, once: bool = False) -> int:
    load_handlers()
    from haven.core import tracing
    from haven.core.settings import get_settings

    tracing.configure(get_settings().otel_exporter, "haven-worker")
    _resume(db)
    stopping = threading.Event()
    if not once and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.set())
    log.info("worker started")
    return work(db, once=once, stop=stopping.is_set)


class InlineWorker:
    """A worker thread inside the API process."""

    def __init__(self, db: Database, idle_sleep: float = 0.5) -> None:
        self.db = db
        self.idle_sleep = idle_sleep
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        load_handlers()
        _resume(self.db)
        self._thread = threading.Thread(target=self._run, name="haven-inline-worker", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            work(self.db, idle_sleep=self.idle_sleep, stop=self._stop.is_set)
        except Exception:
            log.exception("inline worker stopped on an error")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
