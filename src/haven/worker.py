"""`haven worker`: runs queued jobs from the database-backed queue."""

from __future__ import annotations

import logging
import signal
import threading

from haven.core.db import Database
from haven.core.jobs import work

log = logging.getLogger("haven.worker")


def load_handlers() -> None:
    """Import the modules that register job handlers; a capability adds its line here."""


def run(db: Database, *, once: bool = False) -> int:
    load_handlers()
    stopping = threading.Event()
    if not once and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.set())
    log.info("worker started")
    return work(db, once=once, stop=stopping.is_set)
