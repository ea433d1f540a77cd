"""A small HTTP client for console tests that keeps cookies itself: the console's cookies are
Secure, which httpx's cookie jar would not send over the loopback's plain HTTP."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from typing import Any

import httpx
import pyotp

from haven.core import clock

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class ConsoleClient:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30)
        self.jar: dict[str, str] = {}
        self.set_cookies: list[str] = []
        self.csrf = ""

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if self.jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        r = self.http.request(method, path, headers=headers, **kw)
        for raw in r.headers.get_list("set-cookie"):
            self.set_cookies.append(raw)
            c: SimpleCookie = SimpleCookie()
            c.load(raw)
            for k, m in c.items():
                if m["max-age"] == "0" or not m.value:
                    self.jar.pop(k, None)
                else:
                    self.jar[k] = m.value
        found = CSRF_RE.search(r.text) if r.headers.get("content-type", "").startswith("text/html") else None
        if found:
            self.csrf = found.group(1)
        return r

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, data: dict[str, Any] | None = None, csrf: bool = True, **kw: Any) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf)
        return self.request("POST", path, data=form, **kw)

    def follow(self, r: httpx.Response, limit: int = 5) -> httpx.Response:
        while r.status_code in (302, 303) and limit:
            r = self.get(r.headers["location"])
            limit -= 1
        return r

    def sign_in(self, email: str, password: str, secret: str) -> httpx.Response:
        self.get("/console/login")
        r = self.post("/console/login", {"email": email, "password": password})
        assert r.status_code == 303, r.text
        r = self.follow(r)
        code = pyotp.TOTP(secret).at(clock.now())
        r = self.post(str(r.url.path), {"code": code})
        assert r.status_code == 303, r.text
        return self.follow(r)

    def close(self) -> None:
        self.http.close()


def assert_accessible_form_controls(html: str) -> int:
    """Every visible form control has a label (explicit `for`, or an enclosing <label>), and the
    page declares its language and has one <h1>. Returns how many controls were checked."""
    import lxml.html

    doc = lxml.html.fromstring(html)
    assert doc.get("lang") == "en"
    assert len(doc.xpath("//h1")) == 1
    labelled_ids = {el.get("for") for el in doc.xpath("//label[@for]")}
    n = 0
    for el in doc.xpath("//input | //select | //textarea"):
        if el.get("type") in ("hidden", "submit", "button"):
            continue
        n += 1
        inside = bool(el.xpath("ancestor::label"))
        assert inside or (el.get("id") and el.get("id") in labelled_ids), lxml.html.tostring(el)[:200]
    return n
