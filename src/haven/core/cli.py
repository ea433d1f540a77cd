"""Helpers shared by CLI commands: settings, database, and errors as one line with an exit code.

Commands import the services they run inside their own bodies, not at the top of their module:
`haven --help` and every command load all the capabilities' command modules, and importing every
service up front costs about 1 s more CPU per command (1.65 s -> 2.65 s for `haven --help`,
measured with /usr/bin/time over five runs). These imports are the one kind of function-level
import kept for a reason other than an import cycle."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from haven.core.db import Database
from haven.core.errors import HavenError
from haven.core.settings import Settings, get_settings

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])

CLI_ACTOR = "cli"


def settings() -> Settings:
    return get_settings()


def database() -> Database:
    s = settings()
    return Database(s.effective_database_url, s.database_replica_url or None)


def fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def file_error(exc: OSError) -> str:
    """One line for a file that could not be read or written: which file, and why."""
    reason = (exc.strerror or str(exc)).lower()
    if exc.filename is None:
        return reason
    hint = {
        FileNotFoundError: " (check the path)",
        IsADirectoryError: " (give a file, not a folder)",
        PermissionError: " (check its permissions)",
    }.get(type(exc), "")
    return f"{exc.filename}: {reason}{hint}"


@contextmanager
def clear_errors() -> Iterator[None]:
    """Turn Haven's errors, unreadable files, bad values and a missing schema into one line on
    stderr and exit code 2 (never a traceback)."""
    import yaml
    from pydantic import ValidationError
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        yield
    except HavenError as exc:
        fail(exc.message)
    except (OperationalError, ProgrammingError) as exc:
        text = str(exc.orig) if getattr(exc, "orig", None) else str(exc)
        if "no such table" in text or "does not exist" in text:
            fail("the database has no schema yet: run 'haven db upgrade'")
        fail(f"database error: {text.splitlines()[0]}")
    except OSError as exc:
        fail(file_error(exc))
    except UnicodeDecodeError as exc:
        fail(f"not UTF-8 text ({exc.reason} at byte {exc.start}): give a UTF-8 file")
    except ValidationError as exc:  # settings from HAVEN_ variables, or a file's contents
        fail("; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors()))
    except yaml.YAMLError as exc:
        fail(f"not valid YAML: {' '.join(str(exc).split())}")
    except ValueError as exc:
        fail(" ".join(str(exc).split()) or type(exc).__name__)


def handles_errors(fn: F) -> F:
    if getattr(fn, "__haven_handles_errors__", False):
        return fn

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with clear_errors():
            return fn(*args, **kwargs)

    wrapper.__haven_handles_errors__ = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def handle_errors_everywhere(app: typer.Typer) -> None:
    """Wrap every command of `app` and of its sub-apps in `handles_errors` (once): no command of
    `haven` ends in a traceback, including one whose author forgot the decorator."""
    for info in app.registered_commands:
        if info.callback is not None:
            info.callback = handles_errors(info.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            handle_errors_everywhere(group.typer_instance)


def is_tty() -> bool:
    return sys.stdout.isatty()


def print_table(table: Table, keep: Iterable[str] = ("id",)) -> None:
    """Print `table` so that its `keep` columns (the ids and names the next command takes) come out
    whole at the terminal's width (COLUMNS, or 80 when not a terminal): they never wrap or shorten,
    the other columns do instead; and when even that cannot fit them, each row prints as
    `header: value` lines."""
    wanted = set(keep)
    kept = [c for c in table.columns if str(c.header) in wanted]
    for column in kept:
        column.no_wrap = True
        column.min_width = max((len(str(v)) for v in column.cells), default=0)
    # Room for the kept columns whole, every other column at least 4 characters (or its header's
    # length) and the borders (3 characters a column, plus 1); otherwise rows as lines.
    others = [c for c in table.columns if c not in kept]
    need = sum(c.min_width or 0 for c in kept) + sum(min(4, len(str(c.header))) for c in others)
    fits = need + 3 * len(table.columns) + 1 <= console.width
    plain = Console(width=console.width, file=io.StringIO(), color_system=None, soft_wrap=False)
    plain.print(table)
    lines = plain.file.getvalue().splitlines()  # type: ignore[attr-defined]
    rows = list(zip(*(list(c.cells) for c in table.columns), strict=True))
    index = [table.columns.index(c) for c in kept]
    whole = all(any(all(str(row[i]) in line for i in index) for line in lines) for row in rows if index)
    if fits and whole and all(len(line) <= console.width for line in lines):
        console.print(table)
        return
    for n, row in enumerate(rows):
        if n:
            console.print()
        for column, value in zip(table.columns, row, strict=True):
            console.print(f"{column.header}: {value}", highlight=False, soft_wrap=True)
