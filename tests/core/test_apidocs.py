"""/docs and /redoc point only at Haven's own files; `/` leads to the console; a favicon exists."""

from __future__ import annotations

import re

from tests.conftest import LiveServer


def test_docs_pages_reference_only_local_urls(server: LiveServer) -> None:
    with server.client() as c:
        for path in ("/docs", "/redoc"):
            page = c.get(path)
            assert page.status_code == 200
            srcs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
            assert srcs, path
            assert all(s.startswith("/") for s in srcs), (path, srcs)
            for src in srcs:
                assert c.get(src).status_code == 200, src
        assert b"cdn.redoc.ly" not in c.get("/docs-assets/redoc.standalone.js").content
        missing = c.get("/docs-assets/nothing.js")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_root_redirects_to_the_console_and_favicon_is_served(server: LiveServer) -> None:
    with server.client() as c:
        home = c.get("/")
        assert home.status_code in (302, 303, 307) and home.headers["location"] == "/console/"
        icon = c.get("/favicon.ico")
        assert icon.status_code == 200 and icon.content[:4] == b"\x00\x00\x01\x00"
        assert icon.headers["content-type"].startswith("image/")
