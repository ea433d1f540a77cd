"""The event catalogue: record_event refuses what does not fit, every recorded type is declared,
docs/events.md is current, and subject kinds are unique names, one per table."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from haven.core import events
from haven.core.db import Database
from haven.core.ledger import events_for, record_event

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "haven"

VERDICT = {
    "action": "allow",
    "rule": "default.allow",
    "labels": [],
    "matched_entries": [],
    "uploader": "u1",
    "priority": "NONE",
    "pending_analysis": False,
    "analysis": None,
    "previous_action": None,
    "ruleset_version": "1",
    "category": None,
    "actions": [],
    "shadow": [{"rule": "r", "verdict": "block", "would_decide": False}],
}


def record(db: Database, type: str, data: dict[str, Any] | None, subject_type: str = "content") -> None:
    with db.session() as s:
        record_event(s, type, subject_type=subject_type, subject_id="c1", actor="system:test", data=data)


def test_a_fitting_event_is_recorded_and_found_by_subject(db: Database) -> None:
    record(db, events.CONTENT_VERDICT, VERDICT)
    with db.session() as s:
        (ev,) = events_for(s, "content", "c1")
        assert ev.type == "content.verdict" and ev.data == VERDICT


def test_an_unknown_event_type_is_refused(db: Database) -> None:
    with pytest.raises(events.EventError, match=r"'content.verdcit'.*not in the event catalogue") as exc:
        record(db, "content.verdcit", VERDICT)
    assert isinstance(exc.value, ValueError) and exc.value.event_type == "content.verdcit"
    with db.session() as s:
        assert events_for(s, "content", "c1") == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"priority": 3}, "priority"),  # wrong type
        ({"labels": "block"}, "labels"),  # wrong type
        ({"shadow": [{"rule": "r", "verdict": "block"}]}, "shadow.0.would_decide"),  # nested field missing
        ({"actoins": []}, "actoins"),  # a misspelt (extra) key
        ({"rule": None}, "rule"),  # None where a value is required
    ],
)
def test_a_payload_that_does_not_fit_is_refused_naming_the_field(
    db: Database, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(events.EventError) as exc:
        record(db, events.CONTENT_VERDICT, VERDICT | change)
    assert exc.value.event_type == "content.verdict" and exc.value.field == field
    assert f"event 'content.verdict' (field '{field}')" in str(exc.value)


def test_a_missing_field_and_a_wrong_subject_kind_are_refused() -> None:
    missing = {k: v for k, v in VERDICT.items() if k != "uploader"}
    with pytest.raises(events.EventError, match=r"field 'uploader'.*Field required"):
        events.check(events.CONTENT_VERDICT, "content", missing)
    with pytest.raises(events.EventError, match=r"field 'subject_type'.*'account' is not one of content"):
        events.check(events.CONTENT_VERDICT, "account", VERDICT)
    with pytest.raises(events.EventError, match=r"field 'blocked'"):
        events.check(events.ACCOUNT_BLOCKED, "account", None)
    events.check(events.STAFF_RESET, "staff", None)  # no payload, no data
    with pytest.raises(events.EventError, match=r"field 'why'"):
        events.check(events.STAFF_RESET, "staff", {"why": "x"})


def test_message_received_takes_the_optional_verdict_fields() -> None:
    base = {"message_id": "m1", "turn": 1, "behaviours": 0}
    events.check(events.MESSAGE_RECEIVED, "conversation", base)
    verdict = {
        "action": "hold",
        "rule": "youth.first_contact",
        "ruleset_version": "3",
        "shadow": [{"rule": "x", "verdict": "block", "would_decide": True}],
        "category": None,
        "actions": ["message.hold"],
    }
    events.check(events.MESSAGE_RECEIVED, "conversation", base | verdict)
    with pytest.raises(events.EventError, match=r"field 'action'"):
        events.check(events.MESSAGE_RECEIVED, "conversation", base | {"action": "review"})


def test_an_aliased_field_is_written_by_its_name() -> None:
    events.check(events.ACCOUNT_STATE_CHANGED, "account", {"from": "active", "to": "suspended", "reason": "d1"})
    with pytest.raises(events.EventError, match=r"field 'from'"):
        events.check(events.ACCOUNT_STATE_CHANGED, "account", {"from_": "active", "to": "x", "reason": "d1"})


# --- every event recorded in src/ is in the catalogue (AST scan) -------------------------------


def _enclosing(tree: ast.Module, node: ast.AST) -> ast.FunctionDef | None:
    """The innermost function around a node."""
    line = getattr(node, "lineno", 0)
    around = [
        f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.lineno <= line <= (f.end_lineno or f.lineno)
    ]
    return max(around, key=lambda f: f.lineno, default=None)


class Scan:
    """Resolves every value an event-type argument can take, following local variables,
    conditional expressions, f-strings over local variables and wrapper functions' parameters."""

    def __init__(self) -> None:
        self.modules = {p: ast.parse(p.read_text()) for p in sorted(SRC.rglob("*.py"))}
        #: (type, subject kind or None when not a literal, where)
        self.found: list[tuple[str, str | None, str]] = []
        self.subscribed: list[tuple[str, str]] = []

    def values(self, path: Path, tree: ast.Module, expr: ast.expr, at: ast.AST) -> Iterator[str]:
        where = f"{path.relative_to(ROOT)}:{at.lineno}"  # type: ignore[attr-defined]
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            yield expr.value
        elif isinstance(expr, ast.Constant) and expr.value is None:
            return
        elif isinstance(expr, ast.IfExp):
            yield from self.values(path, tree, expr.body, at)
            yield from self.values(path, tree, expr.orelse, at)
        elif isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "events":
            yield getattr(events, expr.attr)
        elif isinstance(expr, ast.JoinedStr):
            parts: list[list[str]] = []
            for v in expr.values:
                if isinstance(v, ast.Constant):
                    parts.append([str(v.value)])
                else:
                    assert isinstance(v, ast.FormattedValue), where
                    parts.append(sorted(set(self.values(path, tree, v.value, at))))
            combos = [""]
            for options in parts:
                combos = [c + o for c in combos for o in options]
            yield from combos
        elif isinstance(expr, ast.Name):
            func = _enclosing(tree, at)
            assigned = [
                n.value
                for n in ast.walk(func or tree)
                if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == expr.id for t in n.targets)
            ]
            if assigned:
                for value in assigned:
                    yield from self.values(path, tree, value, at)
                return
            if hasattr(events, expr.id) and isinstance(getattr(events, expr.id), str):
                yield getattr(events, expr.id)  # a constant imported from haven.core.events
                return
            assert func is not None, f"{where}: cannot resolve {expr.id}"
            params = [a.arg for a in func.args.args + func.args.kwonlyargs]
            assert expr.id in params, f"{where}: cannot resolve {expr.id}"
            yield from self.through_wrapper(path, tree, func, expr.id)
        else:
            raise AssertionError(f"{where}: cannot resolve the event type {ast.unparse(expr)}")

    def through_wrapper(self, path: Path, tree: ast.Module, func: ast.FunctionDef, param: str) -> Iterator[str]:
        """Every value the callers of a wrapper (e.g. `_case_event`) pass for its event-type parameter."""
        position = [a.arg for a in func.args.args].index(param) if param in [a.arg for a in func.args.args] else None
        calls = 0
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == func.name:
                calls += 1
                arg = next((k.value for k in call.keywords if k.arg == param), None)
                if arg is None and position is not None and position < len(call.args):
                    arg = call.args[position]
                if arg is not None:
                    yield from self.values(path, tree, arg, call)
        assert calls, f"{path}: the wrapper {func.name} is never called in its module"

    def run(self) -> Scan:
        for path, tree in self.modules.items():
            if path == SRC / "core" / "ledger.py":
                continue
            for call in ast.walk(tree):
                if not isinstance(call, ast.Call):
                    continue
                name = getattr(call.func, "id", None) or getattr(call.func, "attr", None)
                where = f"{path.relative_to(ROOT)}:{call.lineno}"
                if name == "record_event":
                    kind = next((k.value for k in call.keywords if k.arg == "subject_type"), None)
                    literal = kind.value if isinstance(kind, ast.Constant) else None
                    for t in self.values(path, tree, call.args[1], call):
                        self.found.append((t, literal, where))
                elif name == "subscribe" and (
                    isinstance(call.func, ast.Name)
                    or getattr(getattr(call.func, "value", None), "id", None) == "ledger"
                ):  # the ledger's subscribe, not a broker client's (streams' link.subscribe(topic))
                    for a in call.args:
                        if isinstance(a, ast.Starred):
                            # A list from settings (streams.publish.PublishSettings.events), which
                            # a validator checks against the catalogue when it is read.
                            continue
                        for t in self.values(path, tree, a, call):
                            self.subscribed.append((t, where))
        return self


@pytest.fixture(scope="module")
def scan() -> Scan:
    return Scan().run()


def test_every_event_type_recorded_in_src_is_in_the_catalogue(scan: Scan) -> None:
    recorded = {t for t, _, _ in scan.found}
    assert len(recorded) >= 85  # the scan does find them (89 when the catalogue was written)
    # Resolved through wrappers, variables and f-strings, not only literals:
    assert {"report.finished", "report.cancelled", "bank.entry_disabled", "reporter.suspended"} <= recorded
    assert {"policy.rules_installed", "policy.rule_promoted"} <= recorded
    unknown = sorted({f"{t} ({where})" for t, _, where in scan.found if t not in events.CATALOGUE})
    assert not unknown, f"recorded but not in haven.core.events: {unknown}"
    wrong_kind = sorted(
        f"{t} about {k} ({where})"
        for t, k, where in scan.found
        if k is not None and t in events.CATALOGUE and k not in events.CATALOGUE[t].subjects
    )
    assert not wrong_kind, wrong_kind
    subscribed = sorted({f"{t} ({where})" for t, where in scan.subscribed if t not in events.CATALOGUE})
    assert not subscribed, f"subscribed to but not in haven.core.events: {subscribed}"
    never = sorted(set(events.CATALOGUE) - recorded)
    assert not never, f"in the catalogue but never recorded in src/: {never}"


# --- docs and subject kinds ---------------------------------------------------------------------


def test_docs_events_md_is_generated_from_the_catalogue() -> None:
    current = (ROOT / "docs" / "events.md").read_text()
    assert current == events.document(), "docs/events.md is stale: python -m haven.core.events > docs/events.md"


def test_subject_kinds_are_unique_names_one_per_table() -> None:
    import haven.models

    tables = [k.table for k in events.SUBJECT_KINDS.values() if k.table]
    assert len(tables) == len(set(tables)), "two subject kinds name the same table"
    assert all(name == k.name for name, k in events.SUBJECT_KINDS.items())
    missing = sorted(set(tables) - set(haven.models.Base.metadata.tables))
    assert not missing, f"subject kinds name tables that do not exist: {missing}"
    used = {s for e in events.CATALOGUE.values() for s in e.subjects}
    assert used <= set(events.SUBJECT_KINDS), sorted(used - set(events.SUBJECT_KINDS))
    assert used == set(events.SUBJECT_KINDS), f"unused subject kinds: {sorted(set(events.SUBJECT_KINDS) - used)}"
    with pytest.raises(ValueError, match="declared twice"):
        events.declare(events.CONTENT_VERDICT, events.CONTENT, events.NoData)
