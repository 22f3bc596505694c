"""Who a command acts as: the signed-in person, or the operator who runs the system.

Commands that show patient data or do a person's work act as the user of the token
`claimdesk login` wrote (``signed_in``/``person``): no valid token is a refusal, audited
as ``cli:<command>``, exit 1, saying how to sign in. Commands that run the system (`up`,
`db upgrade`, imports, `run`, `prefect bootstrap`) act as the operator named by the OS
account (``os:<name>``): whoever may run them already holds the data directory and the
database URL, so a password would prove nothing more; they are audited under that name.
"""

from __future__ import annotations

import getpass
import os
from typing import TYPE_CHECKING, Any

from claimdesk.cli._context import cli_session
from claimdesk.cli._utilities import exit_with_error

if TYPE_CHECKING:
    from sqlmodel import Session

    from claimdesk.settings import Settings
    from models import User


def operator() -> str:
    """The operator's audit name: ``os:`` and the OS account running the command."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # a container's uid with no passwd entry
        name = f"uid{os.getuid()}"
    return f"os:{name}"


def person(session: Session, command: str, *, needs: str | None = None) -> User:
    """The signed-in user for `claimdesk COMMAND`, who may also do ``needs`` (an action).

    Refused (audited as ``cli:COMMAND``, exit 1) without a valid token or the role.
    """
    from claimdesk.access.permissions import require
    from claimdesk.cli.login_cmd import acting_person
    from claimdesk.errors import ClaimdeskError

    user = acting_person(session, action=f"cli:{command}")
    if needs is not None:
        try:
            require(user, needs, session=session)
        except ClaimdeskError as exc:
            exit_with_error(exc)
    return user


def signed_in(command: str, *, needs: str | None = None) -> str:
    """The signed-in user's name, for services that load the user themselves."""
    with cli_session() as session:
        return person(session, command, needs=needs).username


def audit_operator(action: str, *, settings: Settings | None = None, **details: Any) -> str:
    """An operator's command in the audit trail (``os:<name>``); returns that name.

    ``settings``: the database the command ran on, when not the configured one (`up --postgres`).
    """
    from models import append_audit_event

    actor = operator()
    if settings is None:
        with cli_session() as session:
            append_audit_event(
                session, actor=actor, action=action, entity_type="system", details=details
            )
        return actor
    from claimdesk.db import make_engine, session_scope

    engine = make_engine(settings)
    try:
        with session_scope(engine) as session:
            append_audit_event(
                session, actor=actor, action=action, entity_type="system", details=details
            )
    finally:
        engine.dispose()
    return actor
