"""`/docs` (Swagger UI) and `/redoc` served from the files shipped in the `fastapi-offline` wheel,
with Haven's favicon and no web fonts: a self-hosted Haven without internet still shows its API,
and no docs page asks another host for anything (FastAPI's defaults load a CDN, Google Fonts
and fastapi.tiangolo.com's favicon)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from haven.core.errors import NotFound

ASSETS_PREFIX = "/docs-assets"
FAVICON_URL = "/favicon.ico"
_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
}
# ReDoc's sidebar credit loads its logo from Redocly's CDN: an empty local picture instead.
_REWRITES = {
    "redoc.standalone.js": (
        b"https://cdn.redoc.ly/redoc/logo-mini.svg",
        b"data:image/svg+xml,%3Csvg xmlns=%27http://www.w3.org/2000/svg%27/%3E",
    )
}


def asset(name: str) -> bytes:
    """One of the shipped Swagger UI / ReDoc files (only those three names are served)."""
    if name not in _TYPES:
        raise NotFound(f"no docs asset named {name!r}", code="not_found")
    return _read(name)


@cache
def _read(name: str) -> bytes:
    data = (files("fastapi_offline") / "static" / name).read_bytes()
    if name in _REWRITES:
        data = data.replace(*_REWRITES[name])
    return data


def install_api_docs(app: FastAPI, title: str) -> None:
    """Mount /docs, /redoc and their assets; create the app with docs_url=None, redoc_url=None."""
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} API",
            swagger_js_url=f"{ASSETS_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PREFIX}/swagger-ui.css",
            swagger_favicon_url=FAVICON_URL,
            # Swagger UI would send the spec's URL to validator.swagger.io for its badge.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} API",
            redoc_js_url=f"{ASSETS_PREFIX}/redoc.standalone.js",
            redoc_favicon_url=FAVICON_URL,
            with_google_fonts=False,
        )

    @app.get(ASSETS_PREFIX + "/{name}", include_in_schema=False)
    def docs_asset(name: str) -> Response:
        return Response(asset(name), media_type=_TYPES[name], headers={"Cache-Control": "public, max-age=86400"})
