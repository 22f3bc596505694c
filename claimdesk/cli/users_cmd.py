"""`claimdesk users`: accounts for the work-queue app."""

from __future__ import annotations

import sys

import typer

from claimdesk.cli._context import cli_session
from claimdesk.cli._utilities import EXIT_BAD_INPUT, exit_with_error, print_json
from claimdesk.errors import ValidationFailed

# models.users.ROLES (a test keeps them equal), here for the help texts.
ROLES = ("specialist", "lead", "manager", "auditor", "admin")

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
    from sqlmodel import select

    from claimdesk.passwords import hash_password
    from models import User, append_audit_event
    from models.crud import validated

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
    except (ValueError, ValidationFailed) as exc:  # a weak password, a bad name or role
        exit_with_error(exc, EXIT_BAD_INPUT)
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
def list_users(json_output: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List users and their roles."""
    from sqlmodel import select

    from models import User

    with cli_session() as session:
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
) -> None:
    """Set a user's password and enable the account (users from `office import` have none)."""
    from sqlmodel import select

    from claimdesk.passwords import hash_password
    from models import User, append_audit_event

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        password_hash = hash_password(password)
    except ValueError as exc:  # too weak
        exit_with_error(exc, EXIT_BAD_INPUT)
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


def _operator() -> str:
    import getpass

    return f"cli:{getpass.getuser()}"


def _change(
    target: str, change: str, *, role: str | None = None, password: str | None = None
) -> None:
    """One account change through ``claimdesk.access.accounts``, audited as the operator."""
    from claimdesk.access.accounts import apply_change, prepare_change
    from claimdesk.errors import ClaimdeskError

    try:
        prepared = prepare_change(change, role=role, password=password)  # hashed outside
        with cli_session() as session:
            done = apply_change(session, target=target, change=prepared, actor=_operator())
    except ClaimdeskError as exc:
        exit_with_error(exc)
    typer.echo(done)


@app.command("disable")
def disable(username: str = typer.Argument(..., help="The user's login name.")) -> None:
    """Disable an account: its next click in the app is refused, and it cannot sign in."""
    _change(username, "disable")


@app.command("enable")
def enable(username: str = typer.Argument(..., help="The user's login name.")) -> None:
    """Enable a disabled account."""
    _change(username, "enable")


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
) -> None:
    """Clear a sign-in lock left by too many failed passwords."""
    _change(name, "unlock_address" if address else "unlock")


@app.command("reset-totp")
def reset_totp(username: str = typer.Argument(..., help="The user's login name.")) -> None:
    """Remove a user's second factor; their next password sign-in enrols a new one."""
    _change(username, "reset_totp")


@app.command("identities")
def identities(json_output: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Single sign-on identities: linked ones and those waiting for an admin."""
    from claimdesk.access.sso import identities as list_identities

    with cli_session() as session:
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
            user = session.exec(select(User).where(User.username == username)).first()
            if user is None:
                exit_with_error(f"no user {username!r}; `claimdesk users list` shows them.")
            link_identity(session, identity_id=identity_id, user=user, admin=_operator())
    except ClaimdeskError as exc:
        exit_with_error(exc)
    typer.echo(f"identity {identity_id} signs in as {username!r}")
