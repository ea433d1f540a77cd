"""Training speaks to people, not programmers (issue 18 item 10): no module, quiz question, option,
explanation or calibration answer shows a code identifier (`haven.policy.categories`,
`fileViewedByEsp`, `local_confirmed`, snake_case behaviours), and the training pages, the admins'
"who is due" page and the account page name roles as people read them, through the real server."""

from __future__ import annotations

import re

import lxml.html
import pytest

from haven.core.actors import ROLE_LABELS, ROLES
from haven.core.db import Database
from haven.staff import training
from tests.conftest import LiveServer
from tests.review.console_client import ConsoleClient
from tests.review.fixtures import PASSWORD, make_staff

#: snake_case words, dotted module paths, camelCase field names, and anything in backticks.
IDENTIFIER = re.compile(r"\b[a-z]+_[a-z0-9_]+\b|\b[a-z]+\.[a-z]+\.[a-z_]+\b|\b[a-z]+[A-Z][a-zA-Z]+\b|`[^`]+`")


def _identifiers(text: str) -> list[str]:
    return IDENTIFIER.findall(text)


@pytest.mark.parametrize("slug", list(training.MODULES))
def test_module_and_quiz_text_has_no_code_identifiers(slug: str, db: Database) -> None:
    with db.session() as s:
        body = training.get_module(s, slug).body
    assert _identifiers(body) == [], (slug, _identifiers(body))
    quiz = training.quiz(slug)
    assert quiz is not None
    for q in quiz.questions:
        for text in (q.q, *q.options, q.why, q.context):
            assert _identifiers(text) == [], (slug, q.id, text)


def _main_text(html: str) -> str:
    doc = lxml.html.fromstring(html)
    (main,) = doc.xpath("//main")
    return " ".join(main.itertext())


def test_training_pages_name_roles_and_things_as_people_read_them(server: LiveServer, db: Database) -> None:
    _, admin_secret = make_staff(db, "admin@example.org", ["admin", "child_safety_reviewer"], trained=False)
    make_staff(db, "new@example.org", ["child_safety_reviewer", "senior"], trained=False, enrol=False)
    c = ConsoleClient(server.url)
    c.sign_in("admin@example.org", PASSWORD, admin_secret)
    pages = [f"/console/training/{slug}" for slug in training.MODULES]
    pages += ["/console/training", "/console/admin/training", "/console/account"]
    for path in pages:
        r = c.get(path)
        assert r.status_code == 200, (path, r.status_code)
        text = _main_text(r.text)
        assert _identifiers(text) == [], (path, _identifiers(text))
    due = _main_text(c.get("/console/admin/training").text)
    assert "child-safety reviewer, senior reviewer" in due
    assert all(role in ROLE_LABELS for role in ROLES)
    c.close()
