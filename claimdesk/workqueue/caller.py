"""The person behind a work-queue call, read in one small query.

Every work-queue call loads its user again by name (a disabled account or a changed
role counts on the next click), so this runs on each request: one Core SELECT of
the columns the checks need into a plain ``Caller``, not an ORM load of the whole
row (building a ``User`` costs more than the query). The refusal is
``claimdesk.access.auth.load_active_user``'s, word for word.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlmodel import Session

from claimdesk.access import permissions
from models import User

_MAX_AUDITED_NAME = 50  # as claimdesk.access.auth
_USER = User.__table__  # type: ignore[attr-defined]
_BY_NAME = select(
    _USER.c.id, _USER.c.username, _USER.c.display_name, _USER.c.role, _USER.c.active
).where(_USER.c.username == bindparam("username"))


@dataclass(frozen=True, slots=True)
class Caller:
    """An active user as the permission checks see one (``claimdesk.access.permissions.Actor``)."""

    id: int
    username: str
    display_name: str
    role: str
    active: bool


def active_caller(session: Session, username: str) -> Caller:
    """The active user named ``username``; refused (and audited) when unknown or disabled."""
    row = session.connection().execute(_BY_NAME, {"username": username}).first()
    if row is None or not row.active:
        refused = username[:_MAX_AUDITED_NAME] if row is None else Caller(*row)
        permissions.deny(
            refused,
            "session.use",
            f"user {username!r} is unknown or disabled; sign in again.",
            session=session,
        )
    return Caller(*row)
