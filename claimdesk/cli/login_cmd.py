"""`claimdesk login`: sign in at the command line (password and, where needed, a TOTP code).

Writes a short-lived token to ``<data_dir>/cli-token`` (0600); commands that act for a
person call ``acting_person`` to get the signed-in user, and refuse (audited) without
a valid token. ``--status`` says who is signed in, ``--logout`` removes the token.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from claimdesk.cli._context import cli_session, load_settings, open_engine
from claimdesk.cli._utilities import exit_with_error

if TYPE_CHECKING:
    from sqlmodel import Session

    from claimdesk.settings import Settings
    from models import User


def login(
    username: str | None = typer.Argument(None, help="Your claimdesk username."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password (then a code, if asked) from stdin."
    ),
    status: bool = typer.Option(False, "--status", help="Say who is signed in."),
    logout: bool = typer.Option(False, "--logout", help="Sign out: remove the token."),
) -> None:
    """Sign in at the command line (a short-lived token in the data directory)."""
    from claimdesk.access import cli_tokens

    settings = load_settings()
    if logout:
        gone = cli_tokens.remove_token(settings)
        typer.echo("signed out" if gone else "nobody was signed in")
        return
    if status:
        _status(settings)
        return
    if not username:
        exit_with_error("give your username: `claimdesk login USERNAME`.", 2)
    user = _authenticate(username, password_stdin)
    with cli_session() as session:
        from sqlmodel import select

        from models import User

        row = session.exec(select(User).where(User.username == user)).one()
        token = cli_tokens.write_token(settings, row)
    typer.echo(f"signed in as {user!r} until {token.expires_at:%Y-%m-%d %H:%M} UTC")


def _read_secret(prompt: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt(prompt, hide_input=True))


def _authenticate(username: str, from_stdin: bool) -> str:
    from claimdesk.access.auth import EnrolmentRequired, SecondFactorRequired, authenticate
    from claimdesk.errors import ClaimdeskError

    engine = open_engine()
    settings = load_settings()
    password = _read_secret("Password", from_stdin)
    code: str | None = None
    try:
        for _ in range(2):  # the password, then (if asked) the code with it
            try:
                signed_in = authenticate(
                    engine,
                    username=username,
                    password=password,
                    address="cli",
                    code=code,
                    settings=settings,
                )
                return signed_in.username
            except EnrolmentRequired as exc:
                typer.echo(
                    f"{exc}\nAdd this to your authenticator app (shown once):\n"
                    f"  {exc.enrolment.uri}",
                    err=True,
                )
            except SecondFactorRequired as exc:
                if code is not None:
                    raise
                typer.echo(str(exc), err=True)
            code = _read_secret("Code", from_stdin)
    except ClaimdeskError as exc:
        exit_with_error(exc)
    finally:
        engine.dispose()
    exit_with_error("signing in did not finish; try again.")


def _status(settings: Settings) -> None:
    from claimdesk.access import cli_tokens
    from claimdesk.errors import ClaimdeskError

    try:
        with cli_session() as session:
            user = cli_tokens.signed_in_user(session, settings, action="cli.status")
            typer.echo(f"signed in as {user.username!r} ({user.role})")
    except ClaimdeskError as exc:
        exit_with_error(exc)


def acting_person(session: Session, *, action: str) -> User:
    """The signed-in person a command acts for; exits with how to sign in when there is none."""
    from claimdesk.access import cli_tokens
    from claimdesk.errors import ClaimdeskError

    try:
        return cli_tokens.signed_in_user(session, load_settings(), action=action)
    except ClaimdeskError as exc:
        exit_with_error(exc)
