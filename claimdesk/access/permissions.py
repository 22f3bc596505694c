"""Who may do what. Checked again here on every call: a hidden button is not a permission.

Every refusal goes through ``deny`` (``require`` calls it), which records an
``access.refused`` audit event. The caller's transaction is usually rolled back by
the refusal itself, so the event is written when that transaction ends, in a
transaction of its own (``_write_refusals``): a refusal is never lost with the work
it stopped.

Code that runs for no person (a schedule, a flow) acts as a named ``ServiceIdentity``
(``system:statements``): the tables below give it only the actions it needs, and no
review action, so a flow can never resolve a task a person must decide.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, SessionTransaction, object_session

from claimdesk.errors import PermissionDenied
from models import User, append_audit_event

_log = logging.getLogger(__name__)

SERVICE_ROLE = "service"
_PENDING = "claimdesk.refusals"
# Sessions opened for one refusal wait at most this long for SQLite's write lock.
_REFUSAL_LOCK_TIMEOUT_MS = 2000


class Actor(Protocol):
    """A person (``models.User``) or a ``ServiceIdentity``."""

    @property
    def username(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def active(self) -> bool: ...


@dataclass(frozen=True)
class ServiceIdentity:
    """The system acting for nobody in particular; its name says which part of it."""

    name: str

    @property
    def username(self) -> str:
        return f"system:{self.name}"

    @property
    def role(self) -> str:
        return SERVICE_ROLE

    @property
    def active(self) -> bool:
        return True

    @property
    def id(self) -> None:
        return None


def service_identity(name: str) -> ServiceIdentity:
    return ServiceIdentity(name)


# action → roles allowed to perform it.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "task.view": frozenset({"specialist", "lead", "manager", "auditor", "admin"}),
    "task.claim": frozenset({"specialist", "lead"}),
    "task.resolve": frozenset({"specialist", "lead"}),
    "task.reassign": frozenset({"lead", "manager", "admin"}),
    "task.comment": frozenset({"specialist", "lead", "manager"}),
    "claim.view_phi": frozenset({"specialist", "lead", "manager", "auditor", "admin"}),
    # A replacement (7) re-bills a corrected claim; a void (8) takes back a paid one: a lead's call.
    "claim.replace": frozenset({"specialist", "lead"}),
    "claim.void": frozenset({"lead", "manager"}),
    # Keying a visit's charges as a draft claim (claimdesk.intake.charge_entry).
    "claim.create": frozenset({"specialist", "lead", "manager"}),
    "dashboard.view": frozenset({"lead", "manager", "admin", "auditor"}),
    "user.manage": frozenset({"admin"}),
    # The office's own data: practice, providers, payers and fee schedules (the admin pages).
    "office.manage": frozenset({"admin"}),
    # Looking past the minimum necessary: a task or patient outside one's own queues,
    # with a reason (claimdesk.workqueue.necessary); admins manage accounts, not patients.
    "phi.search": frozenset({"specialist", "lead", "manager", "auditor"}),
    # Switching a learned scrub rule on or off (claimdesk.learning.approval).
    "rules.approve": frozenset({"lead"}),
    # Reading the learned rules and their evidence (aggregates, no PHI): the Suggestions page.
    "rules.view": frozenset({"lead", "manager"}),
}


def require(user: User | Actor, action: str, *, session: Session | None = None) -> None:
    """Raise ``PermissionDenied`` (audited) unless ``user`` (active) may perform ``action``."""
    require_in(ROLE_ACTIONS, user, action, session=session)


def require_in(
    table: dict[str, frozenset[str]],
    user: User | Actor,
    action: str,
    *,
    session: Session | None = None,
) -> None:
    """``require`` against another table of actions (the billing actions keep their own)."""
    allowed = table.get(action)
    if allowed is None:
        deny(user, action, f"unknown action {action!r}", session=session)
    if not user.active or user.role not in allowed:
        deny(
            user,
            action,
            f"user {user.username!r} with role {user.role!r} may not {action}; "
            f"allowed roles: {', '.join(sorted(allowed))}.",
            session=session,
        )


def deny(
    user: User | Actor | str,
    action: str,
    message: str,
    *,
    session: Session | None = None,
    details: dict[str, Any] | None = None,
) -> NoReturn:
    """Refuse ``action`` to ``user``: an ``access.refused`` audit event, then ``PermissionDenied``.

    ``session`` is the caller's (by default the one ``user`` was loaded in); the event is
    written when its transaction ends, whether it commits or rolls back.
    """
    name = user if isinstance(user, str) else user.username
    where = session if session is not None else _session_of(user)
    record = {
        "actor": name[:60],
        "action": "access.refused",
        "entity_type": "user",
        "entity_id": getattr(user, "id", None),
        "details": {
            "action": action,
            "role": getattr(user, "role", None),
            "reason": message[:300],
            **(details or {}),
        },
    }
    if where is None:
        _log.warning("refusal not audited (no session): %s may not %s", name, action)
    else:
        where.info.setdefault(_PENDING, []).append(record)
        if not where.in_transaction():
            _write_refusals(where)
    raise PermissionDenied(message)


def _session_of(user: object) -> Session | None:
    if isinstance(user, User):
        return object_session(user)
    return None


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and session.info.get(_PENDING):
        _write_refusals(session)


def _write_refusals(session: Session) -> None:
    """Write the session's pending refusals in a transaction of their own."""
    pending = session.info.pop(_PENDING, [])
    bind = session.bind
    try:
        if isinstance(bind, Connection):  # a session joined to a caller's connection (tests)
            with Session(bind=bind, join_transaction_mode="create_savepoint") as own:
                _append(own, pending)
        elif isinstance(bind, Engine):
            with bind.connect() as connection:
                if bind.dialect.name == "sqlite":
                    # Never stall behind another of this thread's open write transactions.
                    raw: Any = connection.connection.dbapi_connection
                    raw.execute(f"PRAGMA busy_timeout={_REFUSAL_LOCK_TIMEOUT_MS}")
                try:
                    with Session(bind=connection) as own:
                        _append(own, pending)
                finally:
                    if bind.dialect.name == "sqlite":
                        raw.execute("PRAGMA busy_timeout=30000")
        else:
            _log.warning("refusals not audited: the session has no engine (%d)", len(pending))
    except Exception as exc:  # the refusal stands even when its audit event cannot be written
        _log.error(
            "could not audit %d refusal(s): %s; the actions were refused",
            len(pending),
            type(exc).__name__,
        )


def _append(session: Session, pending: list[dict[str, Any]]) -> None:
    for record in pending:
        append_audit_event(session, **record)  # type: ignore[arg-type]
    session.commit()
