"""`claimdesk users`: accounts for the work-queue app.

The first admin comes from `users bootstrap-admin` (the operator, only while there is
no active admin); every other command is an admin's, signed in with `claimdesk login`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from claimdesk.cli._acting import operator, person, signed_in
from claimdesk.cli._context import cli_session, open_engine
from claimdesk.cli._utilities import EXIT_BAD_INPUT, exit_with_error, print_json
from claimdesk.errors import ValidationFailed

if TYPE_CHECKING:
    from sqlmodel import Session

    from models import User

MANAGE = "user.manage"
BREAK_GLASS_HELP = (
    "Recovery when no admin can sign in: act as the OS account (audited with this reason)."
)
# An account change's command name, for the audit trail of a refusal.
_COMMANDS = {"role": "set-role", "unlock_address": "unlock", "reset_totp": "reset-totp"}

# models.users.ROLES (a test keeps them equal), here for the help texts.
ROLES = ("specialist", "lead", "manager", "auditor", "admin")

app = typer.Typer(help="User accounts.", no_args_is_help=True)


@app.command("bootstrap-admin")
def bootstrap_admin(
    username: str = typer.Argument(..., help="The first admin's login name."),
    display_name: str = typer.Option("", "--name", help="Name shown in the app."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin."
    ),
) -> None:
    """Create the first admin (only while there is no active admin); audited as the OS account."""
    from sqlmodel import col, select

    from claimdesk.access.permissions import deny
    from claimdesk.errors import ClaimdeskError
    from models import User, append_audit_event

    action = "user.bootstrap_admin"

    def refuse_if_an_admin_exists(session: Session) -> None:
        if session.exec(select(User.id).where(User.role == "admin", col(User.active))).first():
            deny(
                operator(),
                action,
                "an admin exists already: sign in as an admin (`claimdesk login NAME`) "
                "and add users with `claimdesk users add`.",
                session=session,
            )

    try:
        with cli_session() as session:  # refused before a password is asked for
            refuse_if_an_admin_exists(session)
        password_hash = _hashed(_new_password(password_stdin))
        user = _valid_user(username, "admin", display_name, password_hash)
        with cli_session() as session:
            refuse_if_an_admin_exists(session)  # again: someone may have been quicker
            if session.exec(select(User.id).where(User.username == username)).first():
                exit_with_error(f"user {username!r} exists already; pick another name.")
            session.add(user)
            session.flush()
            append_audit_event(
                session,
                actor=operator(),
                action="user.created",
                entity_type="user",
                entity_id=user.id,
                details={"role": "admin", "bootstrap": True},
            )
    except ClaimdeskError as exc:
        exit_with_error(exc)
    typer.echo(
        f"admin {username!r} added; sign in with `claimdesk login {username}` "
        "(the first sign-in enrols a second factor) and add users with `claimdesk users add`"
    )


def _new_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _hashed(password: str) -> str:
    from claimdesk.passwords import hash_password

    try:
        return hash_password(password)
    except ValueError as exc:  # too weak
        exit_with_error(exc, EXIT_BAD_INPUT)


def _valid_user(username: str, role: str, display_name: str, password_hash: str) -> User:
    from models import User
    from models.crud import validated

    try:
        return validated(
            User,
            {
                "username": username,
                "role": role,
                "display_name": display_name,
                "password_hash": password_hash,
            },
        )
    except (ValueError, ValidationFailed) as exc:  # a bad name or role
        exit_with_error(exc, EXIT_BAD_INPUT)


@app.command("add")
def add(
    username: str = typer.Argument(..., help="Login name (lowercase letters, digits, . _ -)."),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
    display_name: str = typer.Option("", "--name", help="Name shown in the app."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin."
    ),
) -> None:
    """Create a user (signed in as an admin); the password is prompted for and stored hashed."""
    from claimdesk.access.auth import create_user
    from claimdesk.errors import ClaimdeskError

    admin = signed_in("users add", needs=MANAGE)  # refused before a password is asked for
    password = _new_password(password_stdin)
    engine = open_engine()
    try:
        create_user(
            engine,
            username=admin,
            new_username=username,
            role=role,
            password=password,
            name=display_name,
        )
    except ClaimdeskError as exc:  # a weak password, a bad name or role (2); refused (1)
        exit_with_error(exc)
    finally:
        engine.dispose()
    typer.echo(f"user {username!r} added with role {role}")


@app.command("list")
def list_users(json_output: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List users and their roles (signed in as an admin)."""
    from sqlmodel import select

    from models import User

    with cli_session() as session:
        person(session, "users list", needs=MANAGE)
        rows = [
            {
                "username": user.username,
                "role": user.role,
                "display_name": user.display_name,
                "active": user.active,
            }
            for user in session.exec(select(User).order_by(User.username)).all()
        ]
    if json_output:
        print_json(rows)
        return
    for row in rows:
        typer.echo(
            f"{row['username']:20} {row['role']:11} {'active' if row['active'] else 'disabled'}"
        )


@app.command("set-password")
def set_password(
    username: str = typer.Argument(..., help="The user's login name."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin."
    ),
    break_glass: str | None = typer.Option(None, "--break-glass", help=BREAK_GLASS_HELP),
) -> None:
    """Set a user's password and enable the account (users from `office import` have none)."""
    from claimdesk.access.accounts import AccountChange, apply_change, prepare_change
    from claimdesk.errors import ClaimdeskError

    command = "users set-password"
    if break_glass is None:
        signed_in(command, needs=MANAGE)  # refused before a password is asked for
    try:
        prepared = prepare_change("password", password=_new_password(password_stdin))
        with cli_session() as session:
            admin = _actor(session, command, username, break_glass)
            apply_change(session, target=username, change=prepared, actor=admin)
            apply_change(session, target=username, change=AccountChange("enable"), actor=admin)
    except ClaimdeskError as exc:  # too weak (2), no such user (1)
        exit_with_error(exc)
    typer.echo(f"password set for {username!r}; the account is active")


def _change(
    target: str,
    change: str,
    *,
    role: str | None = None,
    break_glass: str | None = None,
) -> None:
    """One account change through ``claimdesk.access.accounts``, by the signed-in admin.

    ``break_glass`` (a reason) lets the operator at the machine recover an account when no
    admin can sign in (locked out, phone lost): audited as ``os:NAME`` with the reason.
    """
    from claimdesk.access.accounts import apply_change, prepare_change
    from claimdesk.errors import ClaimdeskError

    command = f"users {_COMMANDS.get(change, change)}"
    if break_glass is None:
        signed_in(command, needs=MANAGE)
    try:
        prepared = prepare_change(change, role=role)
        with cli_session() as session:
            actor = _actor(session, command, target, break_glass)
            done = apply_change(session, target=target, change=prepared, actor=actor)
    except ClaimdeskError as exc:
        exit_with_error(exc)
    typer.echo(done)


def _actor(session: Session, command: str, target: str, break_glass: str | None) -> str:
    from models import append_audit_event

    if break_glass is None:
        return person(session, command, needs=MANAGE).username
    if not break_glass.strip():
        exit_with_error("--break-glass needs the reason, e.g. --break-glass 'admin lost phone'", 2)
    actor = operator()
    append_audit_event(
        session,
        actor=actor,
        action="user.break_glass",
        entity_type="user",
        details={"command": command, "target": target, "reason": break_glass[:300]},
    )
    return actor


@app.command("disable")
def disable(username: str = typer.Argument(..., help="The user's login name.")) -> None:
    """Disable an account: its next click in the app is refused, and it cannot sign in."""
    _change(username, "disable")


@app.command("enable")
def enable(
    username: str = typer.Argument(..., help="The user's login name."),
    break_glass: str | None = typer.Option(None, "--break-glass", help=BREAK_GLASS_HELP),
) -> None:
    """Enable a disabled account."""
    _change(username, "enable", break_glass=break_glass)


@app.command("set-role")
def set_role(
    username: str = typer.Argument(..., help="The user's login name."),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
) -> None:
    """Change a user's role (takes effect on their next click)."""
    _change(username, "role", role=role)


@app.command("unlock")
def unlock(
    name: str = typer.Argument(..., help="The account name, or with --address the address."),
    address: bool = typer.Option(False, "--address", help="Unlock a client address instead."),
    break_glass: str | None = typer.Option(None, "--break-glass", help=BREAK_GLASS_HELP),
) -> None:
    """Clear a sign-in lock left by too many failed passwords."""
    _change(name, "unlock_address" if address else "unlock", break_glass=break_glass)


@app.command("reset-totp")
def reset_totp(
    username: str = typer.Argument(..., help="The user's login name."),
    break_glass: str | None = typer.Option(None, "--break-glass", help=BREAK_GLASS_HELP),
) -> None:
    """Remove a user's second factor; their next password sign-in enrols a new one."""
    _change(username, "reset_totp", break_glass=break_glass)


@app.command("identities")
def identities(json_output: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Single sign-on identities: linked ones and those waiting for an admin."""
    from claimdesk.access.sso import identities as list_identities

    with cli_session() as session:
        person(session, "users identities", needs=MANAGE)
        rows = list(list_identities(session))
    if json_output:
        print_json(
            [
                {
                    "id": row.id,
                    "username": row.username,
                    "email": row.email,
                    "email_verified": row.email_verified,
                    "issuer": row.issuer,
                    "subject": row.subject,
                }
                for row in rows
            ]
        )
        return
    for row in rows:
        verified = "verified" if row.email_verified else "unverified"
        typer.echo(
            f"{row.id:>5}  {row.username or '(waiting)':20} {row.email or '-'} ({verified})  "
            f"{row.issuer} {row.subject}"
        )


@app.command("link-sso")
def link_sso(
    identity_id: int = typer.Argument(
        ..., help="The identity's id (`claimdesk users identities`)."
    ),
    username: str = typer.Argument(..., help="The claimdesk user it signs in as."),
) -> None:
    """Link a single sign-on identity (issuer + subject) to a user; audited."""
    from sqlmodel import select

    from claimdesk.access.sso import link_identity
    from claimdesk.errors import ClaimdeskError
    from models import User

    try:
        with cli_session() as session:
            admin = person(session, "users link-sso", needs=MANAGE).username
            user = session.exec(select(User).where(User.username == username)).first()
            if user is None:
                exit_with_error(f"no user {username!r}; `claimdesk users list` shows them.")
            link_identity(session, identity_id=identity_id, user=user, admin=admin)
    except ClaimdeskError as exc:
        exit_with_error(exc)
    typer.echo(f"identity {identity_id} signs in as {username!r}")
