"""A capability's manifest: what it plugs into the entry points.

Each capability's `__init__.py` exports one `CAPABILITY`; `haven.capabilities.CAPABILITIES` lists
them once, and the API (`haven.app`), the worker (`haven.worker`), the command line
(`haven.cli.main`) and Alembic's model import (`haven.models`) iterate over that list instead of
each keeping a list of its own. References are `"module:attribute"` strings (or module paths), so
a manifest costs nothing to import and declares no import cycle: the entry point loads what it
needs when it needs it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Capability:
    """What one capability contributes. Every field is optional but `name` and `summary`."""

    name: str
    #: One line: the measure of the child-safety programme this capability serves.
    summary: str
    #: API routers, `"module:attribute"` of a FastAPI `APIRouter`.
    routers: tuple[str, ...] = ()
    #: Console pages (server-rendered, staff sessions), likewise routers.
    pages: tuple[str, ...] = ()
    #: Modules that declare its tables (imported for Alembic and by every process).
    models: tuple[str, ...] = ()
    #: Modules with a `DATA` tuple declaring its tables for the data inventory
    #: (`haven.core.inventory`; docs/data-inventory.md): purpose, basis, retention, personal fields.
    data: tuple[str, ...] = ()
    #: Modules whose import registers job handlers (`haven.core.jobs.handler`).
    jobs: tuple[str, ...] = ()
    #: Modules whose import registers ledger subscribers (`haven.core.ledger.subscribe`).
    subscribers: tuple[str, ...] = ()
    #: (command name, `"module:attribute"`): a Typer app becomes a command group, a function a command.
    cli: tuple[tuple[str, str], ...] = ()


def load(ref: str) -> Any:
    """The object named by `"module:attribute"`, or the module named by `"module"`."""
    module, _, attribute = ref.partition(":")
    mod = importlib.import_module(module)
    return getattr(mod, attribute) if attribute else mod
