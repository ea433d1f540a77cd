"""Every `haven` command, found by walking the Typer app (so a command added later is covered
too), ends bad input with one line on stderr and exit code 2, never a traceback: a missing file,
an id that does not exist, and a flag that does not exist (issue 18, item 7)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from haven.cli import app
from haven.core.settings import Settings, get_settings

runner = CliRunner()
FILE_PARAMS = {"file", "files", "path", "paths"}
# Values for required options, chosen valid so that the missing file or the bad id is what fails.
OPTION_VALUES = {
    "role": "reviewer",
    "kind": "known_csam",
    "version": "v-test",
    "effective": "2030-01-01",
    "until": "2030-01-01",
    "due": "2030-01-01",
    "reason": "a reason",
    "note": "a note",
    "purpose": "testing",
    "field": "a=b",
    "reference": "ref-1",
}
# With placeholder arguments these commands legitimately succeed: they create the thing named
# (a notice hold may name an account Haven has not seen yet: the investigation comes first).
CREATES = {"integration create", "bank create", "staff create", "notice hold"}
# Commands with no required input that would serve, run forever or load models: bad flag only.
NO_PLACEHOLDER_RUN = {"serve", "worker", "dev cybertip-double", "eval", "report refresh-xsd", "demo seed"}


def _commands() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []

    def walk(cmd: Any, path: list[str]) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])
        else:
            found.append((" ".join(path), cmd))

    walk(typer.main.get_command(app), [])
    return found


COMMANDS = _commands()


def _groups() -> list[str]:
    root = typer.main.get_command(app)
    return [name for name, sub in root.commands.items() if hasattr(sub, "commands")]  # type: ignore[attr-defined]


@pytest.fixture
def cli_env(settings: Settings, db: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("HAVEN_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("HAVEN_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def _args(cmd: Any, file_value: str, missing_dir: Path) -> list[str] | None:
    """Arguments for every required parameter (files: `file_value`; ids: one that does not
    exist), or None when the command takes no id or file at all."""
    args: list[str] = []
    opts: list[str] = []
    takes_input = False
    for p in cmd.params:
        if p.name == "help":
            continue
        if p.param_type_name == "argument":
            if p.name in FILE_PARAMS:
                args.append(file_value)
            elif p.name == "email":
                args.append("nobody@example.org")
            else:
                args.append("no-such-id")
            takes_input = True
        elif p.required:
            value = OPTION_VALUES.get(p.name, "no-such-id")
            if p.name == "out":
                value = str(missing_dir / "out.bin")
            opts += [p.opts[0], value]
    return [*args, *opts] if takes_input else None


def _assert_clean_exit_2(argv: list[str]) -> str:
    result = runner.invoke(app, argv)
    shown = result.output  # stdout and stderr as the user sees them
    assert result.exception is None or isinstance(result.exception, SystemExit), (argv, repr(result.exception))
    assert "Traceback" not in shown, (argv, shown)
    assert result.exit_code == 2, (argv, result.exit_code, shown)
    return shown


def test_walk_found_every_capability_command() -> None:
    names = {n for n, _ in COMMANDS}
    for expected in ("policy check", "policy install", "terms publish", "report attach-conversation", "staff create"):
        assert expected in names
    assert len(names) > 50


@pytest.mark.parametrize(("name", "cmd"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_refuses_a_bad_flag(name: str, cmd: Any) -> None:
    shown = _assert_clean_exit_2([*name.split(), "--no-such-flag"])
    assert "no-such-flag" in shown


@pytest.mark.parametrize("group", _groups())
def test_every_group_refuses_a_bad_flag(group: str) -> None:
    _assert_clean_exit_2([group, "--no-such-flag"])


def test_every_command_with_a_missing_file_or_a_bad_id_says_one_line(cli_env: Settings, tmp_path: Path) -> None:
    missing_dir = tmp_path / "no-such-folder"
    missing = str(missing_dir / "nothing.yaml")
    present = tmp_path / "present.txt"
    present.write_text("some text\n")
    ran: list[str] = []
    # The creating commands last: what they create must not turn a later command's bad id good.
    for name, cmd in sorted(COMMANDS, key=lambda c: c[0] in CREATES):
        if name in NO_PLACEHOLDER_RUN:
            continue
        args = _args(cmd, missing, missing_dir)
        if args is None:
            continue
        argv = [*name.split(), *args]
        if name in CREATES:
            assert runner.invoke(app, argv).exception is None, argv
            continue
        shown = _assert_clean_exit_2(argv)
        lines = [line for line in shown.splitlines() if line.strip()]
        usage = lines[0].startswith("Usage:")  # Typer's own check (exists=True, a bad choice)
        assert usage or (len(lines) == 1 and lines[0].startswith("error:")), (argv, shown)
        if any(p.name in FILE_PARAMS for p in cmd.params):
            said = " ".join(shown.replace("│", "").split())
            assert "no such file" in said or "does not exist" in said, (argv, shown)
            # The same command with a file that exists: now the bad id is what is refused.
            if any(p.param_type_name == "argument" and p.name not in FILE_PARAMS for p in cmd.params):
                _assert_clean_exit_2([*name.split(), *_args(cmd, str(present), missing_dir)])  # type: ignore[misc]
        ran.append(name)
    for expected in ("policy check", "policy install", "policy test", "terms publish", "report attach-conversation"):
        assert expected in ran
