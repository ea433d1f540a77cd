"""Folder-level import graph of Haven's capabilities: cycles, and imports made inside functions.

`python scripts/import_graph.py [--all]`: module-level imports (not those under TYPE_CHECKING)
between top-level folders of `src/haven`, the strongly connected components of that graph (a
cycle means two capabilities cannot be understood, or started, one without the other), and the
count of imports inside functions. With `--all`, function-level imports count as edges too.
The suite's `tests/test_architecture.py` uses the same functions.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "haven"
#: Folders that are not capabilities: the shared bottom layer and the entry points on top.
NOT_CAPABILITIES = {"core", "cli", "migrations", "app", "worker", "models", "capabilities", "__init__"}


def folder_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "haven" else None


def _type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def imports(path: Path) -> Iterator[tuple[str, bool]]:
    """(imported module, at module level?) for every import in a file."""
    tree = ast.parse(path.read_text())

    def walk(node: ast.AST, top: bool) -> Iterator[tuple[str, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                continue
            if isinstance(child, ast.Import):
                for a in child.names:
                    yield a.name, top
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                yield child.module, top
                for a in child.names:  # `from haven import x` names a folder too
                    if child.module == "haven":
                        yield f"haven.{a.name}", top
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                yield from walk(child, False)
            else:
                yield from walk(child, top)

    yield from walk(tree, True)


def graph(include_functions: bool = False) -> tuple[dict[str, set[str]], int]:
    """Edges between capability folders, and how many imports of haven modules sit in functions."""
    edges: dict[str, set[str]] = defaultdict(set)
    in_functions = 0
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        src = folder_of(".".join(rel.parts)) or ""
        if src in NOT_CAPABILITIES or "migrations" in rel.parts:
            continue
        for module, top in imports(path):
            dst = folder_of(module)
            if dst is None:
                continue
            if not top:
                in_functions += 1
            if dst == src or dst in NOT_CAPABILITIES or (not top and not include_functions):
                continue
            edges[src].add(dst)
    return edges, in_functions


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one folder (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
        if v not in index:
            visit(v)
    return out


def main() -> None:
    include = "--all" in sys.argv
    edges, in_functions = graph(include)
    for src in sorted(edges):
        print(f"{src:12s} -> {', '.join(sorted(edges[src]))}")
    found = cycles(edges)
    print(f"cycles: {len(found)}" + "".join(f"\n  {' <-> '.join(c)}" for c in found))
    print(f"imports of haven modules inside functions (capabilities): {in_functions}")


if __name__ == "__main__":
    main()
