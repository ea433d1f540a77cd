"""The shape the screening-core work set, kept by tests: no folder-level import cycle among
capabilities, no capability importing the CLI entry point, no two classes in src/ sharing a
name, one writer of verdict events, accounts owned by `accounts/`, and one list of capabilities
that matches the folders."""

from __future__ import annotations

import ast
import importlib.util
import sys
import types
from collections import Counter
from pathlib import Path

import pytest
import typer
from fastapi import APIRouter

from haven.capabilities import CAPABILITIES
from haven.core import events
from haven.core.capability import Capability, load

SRC = Path(__file__).resolve().parents[1] / "src" / "haven"
_spec = importlib.util.spec_from_file_location("import_graph", SRC.parents[1] / "scripts" / "import_graph.py")
assert _spec and _spec.loader
import_graph = importlib.util.module_from_spec(_spec)
sys.modules["import_graph"] = import_graph
_spec.loader.exec_module(import_graph)


def _files() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if "migrations" not in p.parts]


def test_no_folder_level_import_cycle_among_capabilities() -> None:
    edges, _ = import_graph.graph(include_functions=False)
    assert import_graph.cycles(edges) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert import_graph.cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_capability_imports_the_cli_entry_point() -> None:
    offenders = []
    for path in _files():
        if path.parent.name == "cli":
            continue
        for module, _top in import_graph.imports(path):
            if module == "haven.cli" or module.startswith("haven.cli."):
                offenders.append(f"{path.relative_to(SRC)} imports {module}")
    assert offenders == []


def test_no_two_classes_share_a_name() -> None:
    names: Counter[str] = Counter()
    for path in _files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                names[node.name] += 1
    assert sorted(n for n, c in names.items() if c > 1) == []


def _recorded_types(path: Path) -> set[str]:
    """Literal event types passed to `record_event(session, "type", ...)` in a file."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        name = getattr(node.func, "id", getattr(node.func, "attr", "")) if isinstance(node, ast.Call) else ""
        if name != "record_event" or len(node.args) < 2:
            continue
        arg = node.args[1]
        if isinstance(arg, ast.Constant):
            out.add(str(arg.value))
        elif isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id == "events":
            out.add(str(getattr(events, arg.attr)))  # the catalogue's constants
    return out


@pytest.mark.parametrize("event_type", ["content.verdict", "content.enforcement_requested", "content.received"])
def test_one_writer_of_content_events(event_type: str) -> None:
    writers = sorted(str(p.relative_to(SRC)) for p in _files() if event_type in _recorded_types(p))
    assert writers == ["screening/settle.py"]


def test_accounts_are_imported_from_accounts() -> None:
    offenders = []
    for path in _files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and not node.module.startswith("haven.accounts"):
                got = {a.name for a in node.names} & {"Account", "AgeBand", "AGE_BANDS", "MINOR_BANDS"}
                if got and node.module.startswith("haven."):
                    offenders.append(f"{path.relative_to(SRC)}: {sorted(got)} from {node.module}")
    assert offenders == []


def test_every_capability_folder_is_listed_once_and_its_references_load() -> None:
    listed = [c.name for c in CAPABILITIES]
    assert len(listed) == len(set(listed))
    declared = sorted(p.parent.name for p in SRC.glob("*/__init__.py") if "CAPABILITY = Capability(" in p.read_text())
    assert declared == sorted(listed)
    for cap in CAPABILITIES:
        assert isinstance(cap, Capability) and cap.summary
        for ref in (*cap.routers, *cap.pages):
            assert isinstance(load(ref), APIRouter), ref
        for ref in cap.models:  # a models module declares at least one table
            assert any(
                getattr(v, "__module__", None) == ref and hasattr(v, "__table__") for v in vars(load(ref)).values()
            ), ref
        for ref in (*cap.jobs, *cap.subscribers):
            assert isinstance(load(ref), types.ModuleType), ref
        for name, ref in cap.cli:
            obj = load(ref)
            assert isinstance(obj, typer.Typer) or callable(obj), (name, ref)
