"""`claimdesk users`: accounts for the work-queue app."""

from __future__ import annotations

import sys

import typer
from sqlmodel import select

from claimdesk.cli._context import cli_session
from claimdesk.cli._utilities import exit_with_error
from claimdesk.errors import ValidationFailed
from claimdesk.passwords import hash_password
from models import User, append_audit_event
from models.crud import validated
from models.users import ROLES

app = typer.Typer(help="User accounts.", no_args_is_help=True)


@app.command("add")
def add(
    username: str = typer.Argument(..., help="Login name (lowercase letters, digits, . _ -)."),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
    display_name: str = typer.Option("", "--name", help="Name shown in the app."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin."
    ),
) -> None:
    """Create a user; the password is prompted for (or read from stdin) and stored hashed."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        password_hash = hash_password(password)
        user = validated(
            User,
            {
                "username": username,
                "role": role,
                "display_name": display_name,
                "password_hash": password_hash,
            },
        )
    except (ValueError, ValidationFailed) as exc:
        exit_with_error(exc)
    with cli_session() as session:
        if session.exec(select(User.id).where(User.username == username)).first() is not None:
            exit_with_error(f"user {username!r} exists already; pick another name.")
        session.add(user)
        session.flush()
        append_audit_event(
            session,
            actor="system:cli",
            action="user.created",
            entity_type="user",
            entity_id=user.id,
            details={"role": role},
        )
    typer.echo(f"user {username!r} added with role {role}")


@app.command("list")
def list_users() -> None:
    """List users and their roles."""
    with cli_session() as session:
        for user in session.exec(select(User).order_by(User.username)).all():
            typer.echo(
                f"{user.username:20} {user.role:11} {'active' if user.active else 'disabled'}"
            )


@app.command("set-password")
def set_password(
    username: str = typer.Argument(..., help="The user's login name."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin."
    ),
) -> None:
    """Set a user's password and enable the account (users from `office import` have none)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        exit_with_error(exc)
    with cli_session() as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            exit_with_error(f"no user {username!r}; `claimdesk users list` shows them.")
        enabled = not user.active
        user.password_hash, user.active = password_hash, True
        session.add(user)
        append_audit_event(
            session,
            actor="system:cli",
            action="user.password_set",
            entity_type="user",
            entity_id=user.id,
            details={"enabled": enabled},
        )
    typer.echo(f"password set for {username!r}; the account is active")
