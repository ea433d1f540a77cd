"""CLI tables keep whole the ids and names the next command takes, at a plain terminal's 80 columns
(issue 18 item 10): the `haven ... list` commands run as a newcomer runs them, in a subprocess with
COLUMNS=80 and stdout not a terminal."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table

import haven
from haven.core import cli as core_cli
from haven.core.settings import Settings

HAVEN = [str(Path(sys.executable).parent / "haven")]  # the installed command


def haven_at_80(settings: Settings, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    env.update(
        HAVEN_DATABASE_URL=settings.effective_database_url,
        HAVEN_VAR_DIR=str(settings.var_dir),
        HAVEN_SECRETS_KEY=os.environ["HAVEN_SECRETS_KEY"],
        COLUMNS="80",
        PYTHONPATH=str(Path(haven.__file__).resolve().parents[1]),
    )
    done = subprocess.run([*HAVEN, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    if args[-1] == "list":  # a table fits the terminal
        assert max(len(line) for line in done.stdout.splitlines()) <= 80, done.stdout
    return done.stdout


def test_list_commands_print_whole_ids_and_names_at_80_columns(settings: Settings, db) -> None:  # type: ignore[no-untyped-def]
    name = "a-rather-long-integration-name-for-a-service"
    created = json.loads(
        haven_at_80(settings, "integration", "create", name, "--scopes", "intake,banks:read", "--json")
    )
    listed = haven_at_80(settings, "integration", "list")
    assert created["id"] in listed and name in listed, listed

    email = "a.reviewer.with.a.long.address@trust-and-safety.example.org"
    haven_at_80(settings, "staff", "create", email, "--role", "child_safety_reviewer", "--role", "senior")
    from haven.staff.models import StaffMember

    with db.session() as s:
        staff_id = s.query(StaffMember.id).filter_by(email=email).scalar()
    listed = haven_at_80(settings, "staff", "list")
    assert staff_id in listed and email in listed, listed

    bank = "demo-known-material-of-a-partner-hotline"
    haven_at_80(settings, "bank", "create", bank, "--kind", "known_csam", "--classification", "A1")
    listed = haven_at_80(settings, "bank", "list")
    assert bank in listed, listed


@pytest.mark.parametrize("width", [80, 60])
def test_a_table_too_wide_for_the_terminal_prints_rows_as_lines(width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """When even shortened columns cannot fit the ids, each row prints as `header: value` lines."""
    out = io.StringIO()
    monkeypatch.setattr(core_cli, "console", Console(width=width, file=out, color_system=None))
    table = Table("id", *(f"column {n}" for n in range(12)))
    ids = ["01M8S6XQT57RATJDM9C05HXSK8", "01M8S726EGE5HBP3RJ4RAA761H"]
    for i in ids:
        table.add_row(i, *(f"value number {n}" for n in range(12)))
    core_cli.print_table(table, keep=("id",))
    text = out.getvalue()
    for i in ids:
        assert f"id: {i}" in text, text
    assert "column 11: value number 11" in text

    out.truncate(0)
    out.seek(0)
    narrow = Table("id", "name", "state")
    narrow.add_row(ids[0], "shop", "active")
    core_cli.print_table(narrow, keep=("id",))
    assert ids[0] in out.getvalue() and "id: " not in out.getvalue()  # it fits: a table
