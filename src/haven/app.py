"""Builds the FastAPI application from the capabilities' routers."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from haven import __version__
from haven.core import tracing
from haven.core.apidocs import install_api_docs
from haven.core.db import Database
from haven.core.logging import configure_logging
from haven.core.metrics import RequestMetrics, run_scrape_hooks
from haven.core.settings import Settings, get_settings
from haven.core.web import install_error_handlers

log = logging.getLogger("haven.app")
_FROZEN = False


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """The API + console application. Tests pass their own settings and database."""
    settings = settings or get_settings()
    configure_logging(settings.log_format, settings.log_level, settings.is_production)
    db = db or Database(settings.effective_database_url, settings.database_replica_url or None)

    import haven.models  # noqa: F401  (every table and event subscriber)
    from haven.classify.nudge_library import load_library

    load_library()  # an operator's nudge library is validated at start, with a clear error
    from haven.banks.runtime import MatcherRuntime
    from haven.worker import InlineWorker

    runtime = MatcherRuntime(db, settings)
    inline = InlineWorker(db) if settings.inline_worker else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.start()
        if inline is not None:
            inline.start()
        db.start_checkpointer(settings.sqlite_checkpoint_seconds)
        # Everything loaded so far (modules, routes, the classifiers' tables) lives as long as
        # the process: moved out of the collector's generations, a full collection no longer
        # walks it. Without this a gen-2 collection paused a request for up to ~250 ms and the
        # gen-1 ones for ~10 ms (bench/finance.py, 1M stored). Once per process (a test run
        # builds many apps; what is frozen is never collected).
        global _FROZEN
        if not _FROZEN:
            _FROZEN = True
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if inline is not None:
                inline.stop()
            runtime.stop()
            db.stop_checkpointer()

    app = FastAPI(
        title="Haven",
        version=__version__,
        description="Child-safety platform API: detect, report and remove.",
        lifespan=lifespan,
        docs_url=None,  # served by install_api_docs from shipped files, not a CDN
        redoc_url=None,
        **tracing.fastapi_telemetry_off(),
    )
    app.state.settings = settings
    app.state.db = db
    app.state.matcher = runtime
    install_error_handlers(app)
    app.add_middleware(RequestMetrics)
    # Outermost: the request's span covers everything, continuing the caller's traceparent.
    tracing.configure(settings.otel_exporter, "haven")
    app.add_middleware(tracing.TracingMiddleware)

    install_api_docs(app, "Haven")

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        """A person who opens Haven's address lands on the console."""
        return RedirectResponse("/console/", status_code=303)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        from haven.console.web import static_file

        return static_file("favicon.ico")

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    def readyz(request: Request) -> JSONResponse:
        """Readiness: the match index is loaded and no older than the refresh window."""
        state = runtime.readiness()
        return JSONResponse(state, status_code=200 if state["ready"] else 503)

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    def metrics() -> Response:
        run_scrape_hooks(db)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in _routers():
        app.include_router(router)
    return app


def _routers() -> list:  # type: ignore[type-arg]
    """Every capability's API routers, then their console pages, from the manifests."""
    from haven.capabilities import CAPABILITIES
    from haven.core.capability import load

    refs = [r for cap in CAPABILITIES for r in cap.routers] + [p for cap in CAPABILITIES for p in cap.pages]
    return [load(ref) for ref in refs]
