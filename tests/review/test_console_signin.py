"""Sign-in through the console over real HTTP: set-up link, password, TOTP enrolment with a QR
code, recovery codes, CSRF, cookie flags, lockout, and sign-out everywhere."""

from __future__ import annotations

import re

import pyotp

from haven.core.db import Database
from haven.staff import service as svc
from tests.conftest import LiveServer
from tests.review.console_client import ConsoleClient, assert_accessible_form_controls
from tests.review.fixtures import PASSWORD, make_staff


def test_first_sign_in_enrols_totp_and_session_works(server: LiveServer, db: Database) -> None:
    with db.session() as s:
        token = svc.create_staff(s, "new@example.org", ["reviewer"], actor="cli").setup_token
    c = ConsoleClient(server.url)
    r = c.get("/console/")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    r = c.get(f"/console/setup/{token}")
    assert r.status_code == 200 and "Choose a password" in r.text
    r = c.post(f"/console/setup/{token}", {"password": PASSWORD, "confirm": PASSWORD})
    assert r.status_code == 200 and "Password set" in r.text
    assert 'role="status" id="login-notice">Password set' in r.text  # a success, not styled as an error
    assert c.get(f"/console/setup/{token}").status_code == 404  # the link worked once
    # CSRF: a login form post without the token is refused.
    r = c.post("/console/login", {"email": "new@example.org", "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 403 and 'data-code="csrf"' in r.text
    r = c.post("/console/login", {"email": "new@example.org", "password": "wrong password here"})
    assert r.status_code == 401 and "wrong email or password" in r.text
    r = c.post("/console/login", {"email": "new@example.org", "password": PASSWORD})
    assert r.status_code == 303 and r.headers["location"].startswith("/console/enrol")
    cookie = [x for x in c.set_cookies if x.startswith("haven_session=")][-1]
    low = cookie.lower()
    assert "httponly" in low and "samesite=strict" in low and "secure" in low and "path=/console" in low
    # Half signed in: console pages send the person to the second factor.
    r = c.get("/console/")
    assert r.status_code == 303 and r.headers["location"] == "/console/mfa"
    r = c.follow(r)
    assert r.url.path == "/console/enrol"
    assert "<svg" in r.text
    assert assert_accessible_form_controls(r.text) == 1
    assert assert_accessible_form_controls(ConsoleClient(server.url).get("/console/login").text) == 2
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', r.text).group(1)  # type: ignore[union-attr]
    r = c.post("/console/enrol", {"code": "123456" if pyotp.TOTP(secret).now() != "123456" else "654321"})
    assert r.status_code == 401 and "not valid" in r.text
    r = c.post("/console/enrol", {"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 200 and len(re.findall(r"<li><code>[0-9a-f-]{19}</code></li>", r.text)) == 10
    r = c.get("/console/")
    assert r.status_code == 200 and "User reports" in r.text and "Known-material" not in r.text
    # Sign out everywhere ends this session and any other.
    other = ConsoleClient(server.url)
    other.get("/console/login")
    other.post("/console/login", {"email": "new@example.org", "password": PASSWORD})
    c.get("/console/account")
    r = c.post("/console/account/sign-out-everywhere")
    assert r.status_code == 303
    assert c.get("/console/").status_code == 303
    assert other.get("/console/mfa").status_code == 303  # the half-open session died too


def test_recovery_code_signs_in_and_lockout_shows(server: LiveServer, db: Database) -> None:
    sid, _secret = make_staff(db, "rc@example.org", ["senior"])
    with db.session() as s:
        codes = svc.new_recovery_codes(s, svc.get_staff(s, sid))
    c = ConsoleClient(server.url)
    c.get("/console/login")
    r = c.follow(c.post("/console/login", {"email": "rc@example.org", "password": PASSWORD}))
    assert r.url.path == "/console/mfa"
    r = c.post("/console/mfa", {"code": codes[3]})
    assert r.status_code == 303
    assert c.get("/console/").status_code == 200
    bad = ConsoleClient(server.url)
    bad.get("/console/login")
    for _ in range(5):
        assert bad.post("/console/login", {"email": "rc@example.org", "password": "not my password"}).status_code == 401
    r = bad.post("/console/login", {"email": "rc@example.org", "password": PASSWORD})
    assert r.status_code == 403 and "try again in" in r.text


def test_a_refused_page_keeps_the_navigation(server: LiveServer, db: Database) -> None:
    """Issue 18 item 10: a 403 is a page of the console, with the person's own menu on it."""
    _id, secret = make_staff(db, "plain@example.org", ["reviewer"])
    c = ConsoleClient(server.url)
    c.sign_in("plain@example.org", PASSWORD, secret)
    r = c.get("/console/admin/staff")
    assert r.status_code == 403
    assert '<nav aria-label="Main">' in r.text and "/console/admin/staff" not in r.text.split("</nav>")[0]
