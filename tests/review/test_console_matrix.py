"""The role × route matrix: every console route, asked by every role (and by nobody), over real
HTTP, asserting each allowed and each refused pair. A console route without an expectation
here fails the test, so new pages cannot skip the check."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy import update

from haven.core import jobs
from haven.core.actors import ROLES, Actor
from haven.core.clock import now
from haven.core.db import Database
from haven.core.settings import Settings
from haven.cybertip.models import ReportCase
from haven.enforce import webhooks
from haven.enforce.models import Delivery
from haven.evidence.vault import Vault, place_hold
from haven.legal.service import create_request
from haven.review.models import ReviewTask
from haven.review.service import claim_next
from tests.conftest import LiveServer
from tests.helpers import encode, sample
from tests.review.console_client import ConsoleClient
from tests.review.fixtures import PASSWORD, bank_and_flag, make_staff, reviewer

PUBLIC, PENDING = "public", "pending"
ALL = set(ROLES)
REV = {"reviewer", "child_safety_reviewer", "senior"}
CS = {"child_safety_reviewer"}
ADMIN = {"admin"}
DRAFT = {"legal", "child_safety_reviewer"}  # report desk: read and draft
LEGAL = {"legal"}
VAULT = {"legal", "admin"}
QUEUE_ROLES = {
    "known_material": CS,
    "new_material": CS,
    "grooming": CS,
    "user_reports": REV,
    "appeals": {"senior"},
    "escalations": {"senior"},
}
QUEUE = "queue"

EXPECTED: dict[tuple[str, str], Any] = {
    ("GET", "/console"): PUBLIC,
    ("GET", "/console/static/{name}"): PUBLIC,
    ("GET", "/console/login"): PUBLIC,
    ("POST", "/console/login"): PUBLIC,
    ("GET", "/console/setup/{token}"): PUBLIC,
    ("POST", "/console/setup/{token}"): PUBLIC,
    ("POST", "/console/logout"): PUBLIC,
    ("GET", "/console/enrol"): PENDING,
    ("POST", "/console/enrol"): PENDING,
    ("GET", "/console/mfa"): PENDING,
    ("POST", "/console/mfa"): PENDING,
    ("GET", "/console/"): ALL,
    ("GET", "/console/queues/table"): ALL,
    ("GET", "/console/account"): ALL,
    ("POST", "/console/account/sign-out-everywhere"): ALL,
    ("POST", "/console/account/recovery-codes"): ALL,
    ("GET", "/console/wellness"): ALL,
    ("POST", "/console/wellness"): ALL,
    ("GET", "/console/training"): ALL,
    ("GET", "/console/training/{slug}"): ALL,
    ("POST", "/console/training/{slug}/complete"): ALL,
    ("GET", "/console/exposure"): ALL,
    ("GET", "/console/break"): ALL,
    ("POST", "/console/break"): ALL,
    ("GET", "/console/queues/{queue_id}"): QUEUE,
    ("POST", "/console/queues/{queue_id}/next"): QUEUE,
    ("GET", "/console/tasks/{task_id}"): CS,
    ("GET", "/console/tasks/{task_id}/media/{content_id}/preview"): CS,
    ("GET", "/console/tasks/{task_id}/media/{content_id}/file"): CS,
    ("POST", "/console/tasks/{task_id}/decide"): CS,
    ("POST", "/console/tasks/{task_id}/release"): CS,
    ("GET", "/console/admin/staff"): ADMIN,
    ("POST", "/console/admin/staff"): ADMIN,
    ("GET", "/console/insights"): {"admin", "senior"},
    ("GET", "/console/insights/rule-quality.csv"): {"admin", "senior"},
    ("GET", "/console/insights/classifier-quality.csv"): {"admin", "senior"},
    ("GET", "/console/insights/exposure.csv"): {"admin", "senior"},
    ("GET", "/console/insights/nudges.csv"): {"admin", "senior"},
    ("GET", "/console/insights/queues.csv"): {"admin", "senior"},
    ("GET", "/console/youth"): {"admin", "senior"},
    ("GET", "/console/admin/exchanges"): ADMIN,
    ("POST", "/console/admin/exchanges/{exchange_id}/fetch"): ADMIN,
    ("GET", "/console/decisions/{decision_id}"): {"child_safety_reviewer", "senior", "admin"},  # its decider
    ("GET", "/console/youth/accounts/{account_id}"): {"admin", "senior"},
    ("POST", "/console/youth/accounts/{account_id}/override"): ADMIN,
    ("POST", "/console/youth/accounts/{account_id}/purge"): ADMIN,
    ("GET", "/console/privacy"): {"privacy"},
    ("POST", "/console/privacy/accounts/{account_id}/export"): {"privacy"},
    ("POST", "/console/privacy/accounts/{account_id}/erase"): {"privacy"},
    ("POST", "/console/admin/staff/{staff_id}/roles"): ADMIN,
    ("POST", "/console/admin/staff/{staff_id}/reset"): ADMIN,
    ("POST", "/console/admin/staff/{staff_id}/disable"): ADMIN,
    ("GET", "/console/admin/training"): ADMIN,
    ("GET", "/console/admin/training/{slug}"): ADMIN,
    ("POST", "/console/admin/training/{slug}"): ADMIN,
    ("GET", "/console/admin/audit"): ADMIN,
    ("GET", "/console/enforcement/deliveries"): ADMIN | {"senior"},
    ("POST", "/console/enforcement/deliveries/{delivery_id}/replay"): ADMIN,
    ("GET", "/console/enforcement/ladder"): ADMIN | {"senior"},
    ("GET", "/console/tasks/{task_id}/media/{content_id}/exif"): CS,
    ("GET", "/console/reports"): DRAFT,
    ("GET", "/console/reports/{case_id}"): DRAFT,
    ("GET", "/console/reports/{case_id}/status"): DRAFT,
    ("POST", "/console/reports/{case_id}/edit"): DRAFT,
    ("POST", "/console/reports/{case_id}/escalate"): DRAFT,
    ("POST", "/console/reports/{case_id}/conversation"): DRAFT,
    ("POST", "/console/reports/{case_id}/submit"): LEGAL,
    ("POST", "/console/reports/{case_id}/resume"): LEGAL,
    ("POST", "/console/reports/{case_id}/cancel"): LEGAL,
    ("GET", "/console/legal"): LEGAL,
    ("GET", "/console/legal/{request_id}"): LEGAL,
    ("POST", "/console/legal/{request_id}/verify"): LEGAL,
    ("POST", "/console/legal/{request_id}/notice"): LEGAL,
    ("POST", "/console/legal/{request_id}/produce"): LEGAL,
    ("GET", "/console/evidence"): VAULT,
    ("GET", "/console/evidence/objects/{object_id}"): VAULT,
    ("POST", "/console/evidence/holds"): VAULT,
    ("POST", "/console/evidence/holds/{hold_id}/release"): VAULT,
}
LAST = [
    "/console/tasks/{task_id}/decide",
    "/console/tasks/{task_id}/release",
    "/console/account/sign-out-everywhere",
]


def _walk(routes: list[Any], prefix: str = "") -> list[APIRoute]:
    """Every API route, also inside included routers (newer FastAPI keeps them nested)."""
    out: list[APIRoute] = []
    for r in routes:
        if isinstance(r, APIRoute):
            out.append(r)
        elif hasattr(r, "original_router"):
            out += _walk(r.original_router.routes)
    return out


def _console_routes(app: Any) -> list[tuple[str, str]]:
    out = []
    for r in _walk(app.routes):
        if r.path.startswith("/console"):
            for m in sorted(r.methods - {"HEAD"}):
                out.append((m, r.path))
    return out


def _form(path: str, role: str) -> dict[str, Any]:
    forms: dict[str, dict[str, Any]] = {
        "/console/wellness": {"blur": "20", "greyscale": "1", "muted": "1", "per_session": "10", "per_day": "20"},
        "/console/admin/staff": {"email": f"made-by-{role}@example.org", "roles": ["reviewer"]},
        "/console/admin/staff/{staff_id}/roles": {"roles": ["reviewer", "legal"]},
        "/console/admin/training/{slug}": {"title": "Policy", "body": "# Policy\n\nEdited."},
        "/console/tasks/{task_id}/decide": {"decision": "no_violation", "then": "queue"},
        "/console/reports/{case_id}/escalate": {"reason": f"imminent risk (says {role})"},
        "/console/reports/{case_id}/cancel": {"reason": "matrix test"},
        "/console/legal/{request_id}/verify": {"outcome": "verified", "note": "called the agency back"},
        "/console/legal/{request_id}/notice": {"decision": "withhold", "reason": "matrix test"},
        "/console/legal/{request_id}/produce": {"include": ["subscriber"], "purpose": "matrix test"},
        "/console/evidence/holds": {"scope": "account", "target": "acct-1", "reason": f"placed by {role}"},
        "/console/evidence/holds/{hold_id}/release": {"reason": "matrix test"},
        "/console/youth/accounts/{account_id}/override": {"age_band": "13_15", "reason": f"matrix test by {role}"},
        "/console/youth/accounts/{account_id}/purge": {"reason": f"matrix test by {role}"},
        "/console/privacy/accounts/{account_id}/erase": {"reason": f"matrix test by {role}"},
    }
    return forms.get(path, {})


def _reporting_objects(db: Database, settings: Settings) -> tuple[str, str, str, str]:
    """A draft report case with a preserved object and a hold, and a law-enforcement request."""
    system = Actor("system", "haven")
    with db.session() as s:
        case = ReportCase(
            category="grooming",
            incident_type="Online Enticement of Children for Sexual Acts",
            incident_at=now(),
            subject_type="account",
            subject_id="acct-1",
            reported_account={"esp_identifier": "acct-1"},
            created_by="system:haven",
        )
        s.add(case)
        s.flush()
        obj = Vault.from_settings(settings).put(
            s,
            b"benign stand-in",
            actor=system,
            kind="conversation",
            file_name="c.csv",
            content_type=None,
            case_id=case.id,
        )
        hold = place_hold(s, actor=system, reason="matrix", case_id=case.id)
        req = create_request(s, system, kind="subpoena", agency="PD", requester_name="Det. A", targets=["acct-1"])
        return case.id, req.id, obj.id, hold.id


def test_every_console_route_checks_roles_on_the_server(
    server: LiveServer, api_key: str, db: Database, settings: Settings
) -> None:
    routes = _console_routes(server.app)
    missing = [r for r in routes if r not in EXPECTED]
    assert not missing, f"console routes without an expectation in the matrix: {missing}"
    assert not [r for r in EXPECTED if r not in routes], "the matrix lists routes that no longer exist"

    with server.client(api_key) as c:
        flagged = bank_and_flag(c, encode(sample("chelsea"), quality=95), encode(sample("chelsea"), quality=60))
    jobs.work(db, once=True)
    ids = {role: make_staff(db, f"{role}@example.org", [role]) for role in ROLES}
    victim, _ = make_staff(db, "victim@example.org", ["reviewer"], trained=False, enrol=False)
    with db.session() as s:  # a dead letter, so an admin's replay has something to replay
        dead_id = webhooks.deliver(
            s, "tos.updated", {"version": "9"}, subject_type="terms", subject_id="9", actor="cli"
        ).id
        s.execute(update(Delivery).where(Delivery.id == dead_id).values(status="dead"))
    with db.session() as s:
        task = claim_next(s, reviewer(db, ids["child_safety_reviewer"][0]), "known_material")
        assert task is not None and task.content_ids == [flagged["id"]]
    case_id, request_id, object_id, hold_id = _reporting_objects(db, settings)
    from haven.core.clock import new_id
    from haven.review.models import ReviewDecision

    with db.session() as s:  # a decision by the child-safety reviewer: theirs to look back at
        earlier = ReviewDecision(
            id=new_id(),
            task_id=new_id(),
            queue="known_material",
            subject_type="content",
            subject_id="c-old",
            decision="no_violation",
            reviewer=ids["child_safety_reviewer"][0],
        )
        s.add(earlier)
        decision_id = earlier.id
    params = {
        "case_id": case_id,
        "request_id": request_id,
        "object_id": object_id,
        "hold_id": hold_id,
        "name": "console.css",
        "token": "not-a-token",
        "slug": "policy",
        "staff_id": victim,
        "task_id": task.id,
        "content_id": flagged["id"],
        "delivery_id": dead_id,
        "account_id": "acct-1",
        "decision_id": decision_id,
        "exchange_id": "no-such-exchange",
    }

    def concrete(path: str) -> list[tuple[str, str | None]]:
        if "{queue_id}" in path:
            return [(path.replace("{queue_id}", q), q) for q in QUEUE_ROLES]
        for k, v in params.items():
            path = path.replace("{" + k + "}", v)
        return [(path, None)]

    order = sorted(routes, key=lambda r: (r[1] in LAST, LAST.index(r[1]) if r[1] in LAST else 0, r[0] != "GET"))

    # Nobody signed in: every non-public route sends the person to sign in.
    anon = ConsoleClient(server.url)
    anon.get("/console/login")
    for method, tmpl in order:
        if EXPECTED[(method, tmpl)] == PUBLIC:
            continue
        for path, _ in concrete(tmpl):
            r = anon.request(method, path, data={"csrf_token": anon.csrf} if method == "POST" else None)
            assert r.status_code == 303 and r.headers["location"].startswith("/console/login"), (method, path)

    clients = {}
    for role, (_, secret) in ids.items():
        clients[role] = ConsoleClient(server.url)
        home = clients[role].sign_in(f"{role}@example.org", PASSWORD, secret)
        assert home.status_code == 200, role

    # CSRF: every state-changing route refuses a signed-in request without the token.
    cs = clients["child_safety_reviewer"]
    for method, tmpl in order:
        if method != "POST" or EXPECTED[(method, tmpl)] in (PUBLIC,):
            continue
        for path, _ in concrete(tmpl):
            r = cs.post(path, {**_form(tmpl, "cs"), "csrf_token": ""})
            assert r.status_code == 403, (path, r.status_code)

    checked = {"allowed": 0, "refused": 0}
    for method, tmpl in order:
        expect = EXPECTED[(method, tmpl)]
        if expect == PUBLIC:
            continue
        for role in ROLES:
            c = clients[role]
            for path, queue in concrete(tmpl):
                r = c.request(
                    method, path, data={**_form(tmpl, role), "csrf_token": c.csrf} if method == "POST" else None
                )
                where = f"{role} {method} {path} -> {r.status_code} {r.headers.get('location', '')}"
                if expect == PENDING:
                    # Fully signed-in people are sent on; only the half-signed-in use these pages.
                    assert r.status_code == 303 and r.headers["location"] == "/console/", where
                    continue
                allowed = role in (QUEUE_ROLES[queue] if expect == QUEUE else expect)  # type: ignore[index]
                if allowed:
                    assert r.status_code not in (401, 403) and r.status_code < 500, where
                    assert not (r.status_code == 303 and "/login?next=" in r.headers.get("location", "")), where
                    checked["allowed"] += 1
                else:
                    assert r.status_code == 403, where
                    checked["refused"] += 1
    assert checked["allowed"] > 60 and checked["refused"] > 80, checked
    with db.session() as s:
        t = s.get(ReviewTask, task.id)
        assert t is not None and t.status == "done"  # the child-safety reviewer's decision went through
