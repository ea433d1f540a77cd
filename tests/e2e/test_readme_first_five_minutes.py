"""The README's "Your first five minutes", walked literally as a newcomer would, with the commands
read out of the README and the Makefile (so neither can drift from what works):

`make run`'s recipe (`haven db upgrade`, then `haven serve` as a subprocess on a free loopback port,
in a fresh folder: its own ./var with the SQLite database), `haven demo seed`, the `curl` it
prints (block, by rule known_material.block), the same upload of `var/demo/unrelated.jpg`
(allow), `haven staff create ...` and the set-up link it prints; then in Chromium, with every
request to another host failing the test: password, two-factor, training, the known-material
queue by keyboard, the zero-tolerance notice on the task, the decision and "what followed" (the
CyberTipline draft the server's own worker opened); then the README's "rest of the command line".
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

import haven
from tests.conftest import free_port
from tests.e2e.walks import TIMEOUT_MS, first_sign_in, offline_context

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
BIN = Path(sys.executable).parent  # the virtualenv's bin/: the README's `.venv/bin`
ANSI = re.compile(r"\x1b\[")


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def readme_commands(section: str) -> list[str]:
    """The shell commands of a README section's ```sh blocks, without their trailing comments."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        for line in block.splitlines():
            line = re.split(r"\s{2,}#", line)[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def make_run_recipe(host: str, port: int) -> list[str]:
    """`make run`'s commands after its install step, with the Makefile's variables filled in."""
    lines = (ROOT / "Makefile").read_text().split("\nrun:\n", 1)[1].splitlines()
    recipe = []
    for line in lines:
        if not line.startswith("\t"):
            break
        if "$(MAKE)" in line:  # the install: this test runs inside the installed virtualenv
            continue
        recipe.append(line.strip().replace("$(BIN)", str(BIN)).replace("$(HOST)", host).replace("$(PORT)", str(port)))
    return recipe


@dataclass
class Shell:
    """A newcomer's terminal: a fresh folder, the virtualenv's commands, no HAVEN_ settings."""

    cwd: Path
    env: dict[str, str]

    def argv(self, command: str) -> list[str]:
        argv = shlex.split(command)
        if argv[0].startswith(".venv/bin/"):
            argv[0] = str(BIN / argv[0].removeprefix(".venv/bin/"))
        return argv

    def run(self, command: str, *, ok: tuple[int, ...] = (0,), env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            self.argv(command),
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode in ok, f"{command}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        return done.stdout


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    env["PYTHONPATH"] = str(Path(haven.__file__).resolve().parents[1])  # the code under test
    env["COLUMNS"] = "80"  # a plain terminal's width: tables must keep the ids and names whole
    folder = tmp_path / "clone"
    folder.mkdir()
    return Shell(folder, env)


@pytest.fixture
def served(shell: Shell) -> Iterator[tuple[str, Path]]:
    """`make run` on a free port: `haven db upgrade`, then `haven serve` until the test ends."""
    port = free_port()
    upgrade, serve = make_run_recipe("127.0.0.1", port)
    assert "haven db upgrade" in upgrade and "haven serve" in serve
    out = shell.run(upgrade)
    assert "created the database schema (new database)" in out  # not "up to date" on a new database
    log = shell.cwd / "serve.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(shell.argv(serve), cwd=shell.cwd, env=shell.env, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "haven serve did not become ready\n" + log.read_text()
        time.sleep(0.3)
    yield url, log
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _curl_upload(shell: Shell, curl: str) -> dict[str, Any]:
    return dict(json.loads(shell.run(curl)))


def test_the_readme_first_five_minutes(shell: Shell, served: tuple[str, Path], browser: Any) -> None:
    url, log = served
    section = readme_section("Your first five minutes")
    commands = readme_commands(section)
    seed, staff_create, *rest = commands
    assert seed == ".venv/bin/haven demo seed" and staff_create.startswith(".venv/bin/haven staff create")
    assert "With `make run` serving" in section

    # `haven demo seed`: the bank, the key, and a curl command to paste, addressed where Haven serves.
    out = shell.run(seed)
    curl = next(line for line in out.splitlines() if line.startswith("curl "))
    assert f"{url}/v1/content" in curl
    # The count it states is the count `haven bank list` shows.
    stated = re.search(r"(\d+) entries in all", out)
    assert stated, out
    listed = shell.run(".venv/bin/haven bank list")
    row = next(line for line in listed.splitlines() if "demo-known-material" in line)
    assert re.search(rf"\b{stated.group(1)}\b", row), (out, listed)

    # "Paste it: the answer carries the matches and the block verdict by known_material.block."
    blocked = _curl_upload(shell, curl)
    assert blocked["verdict"]["action"] == "block" and blocked["verdict"]["rule"] == "known_material.block"
    assert blocked["matches"] and "`known_material.block`" in section
    # "Upload var/demo/unrelated.jpg the same way and the verdict is allow."
    assert "var/demo/unrelated.jpg" in section
    allowed = _curl_upload(shell, re.sub(r"file=@\S+", "file=@var/demo/unrelated.jpg", curl))
    assert allowed["verdict"]["action"] == "allow", allowed

    # "Create a reviewer and open the link it prints."
    created = shell.run(staff_create)
    link = re.search(rf"{re.escape(url)}/console/setup/\S+", created)
    assert link, created
    email = shlex.split(staff_create)[3]

    foreign: list[str] = []
    ctx = offline_context(browser, foreign)
    page = ctx.new_page()
    first_sign_in(page, link.group(0))
    expect(page.get_by_text(email.split("@")[0], exact=True)).to_be_visible()
    # "work the known material queue with the keyboard (`?` lists the keys)"
    page.get_by_role("link", name="Queues", exact=True).click()
    page.locator("tr[data-queue=known_material] button", has_text="Next task").click()
    page.wait_for_url(re.compile(r"/console/tasks/"))
    # The README's zero tolerance, said on the task: the rule already acted, the decision confirms it.
    notice = page.locator("#automated-action")
    expect(notice).to_contain_text("known_material.block")
    expect(notice).to_contain_text("account terminate")
    expect(notice).to_contain_text("confirms it")
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "readme-task.png"), full_page=True)
    page.locator("body").focus()
    page.keyboard.press("v")
    page.keyboard.press("1")
    page.keyboard.press("x")
    page.wait_for_url(re.compile(r"/console/queues/known_material\?empty=1"))
    page.locator("#decided a").click()
    page.wait_for_url(re.compile(r"/console/decisions/"))
    # The server's own worker (make run starts no other) does the follow-ups within seconds.
    followups = page.locator("#followups")
    deadline = time.monotonic() + TIMEOUT_MS / 1000 * 3
    while page.locator("#followups a", has_text="CyberTipline draft opened").count() == 0:
        assert time.monotonic() < deadline, page.locator("#main").inner_text()
        page.wait_for_timeout(1000)
        page.reload()
    expect(followups).to_contain_text("added to local_confirmed")
    expect(followups).to_contain_text("confirmed what rule known_material.block already did")
    page.screenshot(path=str(SHOTS / "readme-what-followed.png"), full_page=True)
    page.locator("#followups a", has_text="CyberTipline draft opened").click()
    page.wait_for_url(re.compile(r"/console/reports/"))
    ctx.close()
    assert foreign == [], foreign

    # "Then try the rest of the command line", each as written.
    assert rest == [
        ".venv/bin/haven hash var/demo/known-1.jpg",
        ".venv/bin/haven scan var/demo --json",
        ".venv/bin/haven bank list",
        ".venv/bin/haven bank export demo-known-material --format csv",
        ".venv/bin/haven integration create my-service --scopes intake,banks:read --json",
    ], rest
    hashed = shell.run(rest[0])
    assert all(k in hashed for k in ("md5", "sha1", "sha256", "pdq", "pdq_quality"))
    scanned = [json.loads(line) for line in shell.run(rest[1], ok=(1,)).splitlines()]  # "exit 1: something matched"
    known = next(r for r in scanned if r["path"].endswith("known-1.jpg"))
    # named, not only by id; the reviewer's confirmation banked it in local_confirmed too
    assert {m["bank"] for m in known["matches"]} == {"demo-known-material", "local_confirmed"}
    assert "demo-known-material" in shell.run(rest[2])  # whole, at 80 columns
    exported = shell.run(rest[3]).splitlines()
    assert exported[0] == "signal_type,value,classification,source_ref" and len(exported) > 20
    integration = json.loads(shell.run(rest[4]))
    assert integration["key"].startswith("hvn_")

    # The server's log, written to a file and not a terminal, carries no colour codes.
    served_log = log.read_text()
    assert "Uvicorn running on" in served_log and not ANSI.search(served_log), served_log[:2000]
