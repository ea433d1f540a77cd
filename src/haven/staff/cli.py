"""`haven staff ...`: create staff accounts, list them, change roles, reset, disable, and
reseal TOTP secrets after a key rotation."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from haven.core.cli import CLI_ACTOR, console, database, handles_errors, print_table, settings

staff_app = typer.Typer(help="Staff accounts of the console (roles, set-up links).", no_args_is_help=True)


def _link(token: str) -> str:
    return f"{settings().public_url.rstrip('/')}/console/setup/{token}"


@staff_app.command("create")
@handles_errors
def create(
    email: str,
    role: Annotated[
        list[str], typer.Option("--role", help="reviewer, child_safety_reviewer, senior, legal or admin (repeatable)")
    ],
    name: Annotated[str, typer.Option(help="display name")] = "",
    password: Annotated[
        bool, typer.Option("--password", help="print a generated password instead of a set-up link")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a staff account and print its one-time set-up link (or password)."""
    from haven.staff.service import create_staff

    with database().session() as s:
        created = create_staff(s, email, role, actor=CLI_ACTOR, display_name=name, with_password=password)
        sid, roles = created.staff.id, created.staff.roles
    link = _link(created.setup_token) if created.setup_token else None
    if as_json:
        print(json.dumps({"id": sid, "roles": roles, "setup_link": link, "password": created.password}))
        return
    console.print(f"staff member {email} ({sid}) created with role(s) {', '.join(roles)}.")
    if link:
        console.print("One-time set-up link (valid 72 hours; they choose a password, then set up 2FA):")
        print(link)
    else:
        console.print("Password, shown only now (they set up 2FA at first sign-in):")
        print(created.password)


@staff_app.command("list")
@handles_errors
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List staff with roles and state."""
    from haven.staff.service import list_staff

    with database().session() as s:
        rows: list[dict[str, Any]] = [
            {
                "id": m.id,
                "email": m.email,
                "roles": m.roles,
                "two_factor": m.totp_enabled_at is not None,
                "state": "disabled" if m.disabled_at else ("set-up pending" if m.password_hash is None else "active"),
            }
            for m in list_staff(s)
        ]
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("id", "email", "roles", "2FA", "state")
    for r in rows:
        table.add_row(r["id"], r["email"], ",".join(r["roles"]), "yes" if r["two_factor"] else "no", r["state"])
    print_table(table, keep=("id", "email"))


@staff_app.command("roles")
@handles_errors
def roles(
    email: str,
    role: Annotated[list[str], typer.Option("--role", help="the new set of roles (repeatable)")],
) -> None:
    """Replace a staff member's roles."""
    from haven.staff.service import get_staff, set_roles

    with database().session() as s:
        m = get_staff(s, email)
        set_roles(s, m, role, actor=CLI_ACTOR)
        console.print(f"{m.email}: {', '.join(m.roles)}")


@staff_app.command("reset")
@handles_errors
def reset(email: str) -> None:
    """Clear password and 2FA, sign out everywhere, and print a new set-up link."""
    from haven.staff.service import get_staff, reset_setup

    with database().session() as s:
        token = reset_setup(s, get_staff(s, email), actor=CLI_ACTOR)
    print(_link(token))


@staff_app.command("disable")
@handles_errors
def disable(email: str) -> None:
    """Disable an account and end its sessions."""
    from haven.staff.service import disable_staff, get_staff

    with database().session() as s:
        disable_staff(s, get_staff(s, email), actor=CLI_ACTOR)
    console.print(f"{email} disabled")


@staff_app.command("rotate-totp-key")
@handles_errors
def rotate_totp_key() -> None:
    """Seal every TOTP secret under HAVEN_TOTP_KEY (the old key in HAVEN_TOTP_PREVIOUS_KEYS)."""
    from haven.staff.service import reseal_totp_secrets

    with database().session() as s:
        n = reseal_totp_secrets(s)
    console.print(f"{n} TOTP secret(s) sealed under the current key")
