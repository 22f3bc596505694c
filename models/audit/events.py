"""The audit table and the append path every caller uses.

An append is one INSERT inside the caller's transaction and takes no lock: the row
is stored unchained (``seal_seq``, ``prev_hash`` and ``hash`` NULL) and the sealer
(``models.audit.chain.seal_pending``) chains it shortly after. On PostgreSQL the
INSERT runs as ``claimdesk_audit_writer`` (INSERT only, see migration 0006) when the
connection's user may ``SET ROLE`` to it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Index, insert, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Field, Session, SQLModel

from models._fields import json_field, timestamp_field
from models.types import utcnow

# Created by migration 0006 on PostgreSQL (cluster-wide roles, NOLOGIN).
WRITER_ROLE = "claimdesk_audit_writer"  # INSERT on audit_event, nothing else
SEALER_ROLE = "claimdesk_audit_sealer"  # SELECT, and UPDATE of the four seal columns


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    # The sealer finds unsealed rows through this small index, however long the trail.
    __table_args__ = (
        Index(
            "ix_audit_event_unsealed",
            "id",
            postgresql_where=text("seal_seq IS NULL"),
            sqlite_where=text("seal_seq IS NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = timestamp_field(index=True)
    # Username, or "system:<component>" for flows and sweepers.
    actor: str = Field(max_length=60, index=True)
    action: str = Field(max_length=60)
    entity_type: str = Field(max_length=30)
    entity_id: str | None = Field(default=None, max_length=40)
    claim_id: int | None = Field(default=None, index=True)
    # Ids, codes and field names only; never the PHI values themselves.
    details: dict[str, Any] = json_field()
    # Set once by the sealer (the database refuses any other change): the position in
    # the chain, the previous event's MAC and this event's HMAC-SHA256.
    seal_seq: int | None = Field(default=None, index=True, unique=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)
    sealed_at: datetime | None = timestamp_field(nullable=True)


# Built once: every request appends through it.
_INSERT = insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.id)  # type: ignore[attr-defined]


def append_audit_event(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | int | None = None,
    claim_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record an event inside the caller's transaction; the sealer chains it after commit.

    The event comes back as a persistent ``AuditEvent`` of ``session`` (refresh it to
    see its seal). Request paths that only need the row written use
    ``append_audit_record``: the same INSERT, without building the ORM object.
    """
    values = _values(actor, action, entity_type, entity_id, claim_id, details)
    event = AuditEvent(id=_insert(session, values), **values)
    make_transient_to_detached(event)
    session.add(event)  # persistent: its row exists in this transaction
    return event


def append_audit_record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | int | None = None,
    claim_id: int | None = None,
    details: dict[str, Any] | None = None,
    last: bool = False,
) -> int:
    """``append_audit_event`` for the request paths: the same row, only its id returned.

    One INSERT … RETURNING on the session's connection (between the role switches),
    no unit-of-work flush and no ORM object: building an ``AuditEvent`` costs more
    Python than the INSERT, and the work queue appends on every click.

    ``last``: nothing but COMMIT (or rollback) follows in this transaction, so the
    role is switched with ``SET LOCAL`` and left to end with it (one statement less).
    A statement run after it anyway runs as the writer role, which may only INSERT
    audit rows: it fails, it never gains rights.
    """
    values = _values(actor, action, entity_type, entity_id, claim_id, details)
    if last:
        session.flush()
        connection = session.connection()
        if _may_set_role(session, WRITER_ROLE):
            connection.exec_driver_sql(f"SET LOCAL ROLE {WRITER_ROLE}")
        return int(connection.execute(_INSERT, values).scalar_one())
    return _insert(session, values)


def _values(
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | int | None,
    claim_id: int | None,
    details: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "at": utcnow(),
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": None if entity_id is None else str(entity_id),
        "claim_id": claim_id,
        "details": details or {},
    }


def _insert(session: Session, values: dict[str, Any]) -> int:
    # The caller's own pending rows are written first, with the caller's own rights.
    session.flush()
    connection = session.connection()
    with as_role(session, WRITER_ROLE):
        return int(connection.execute(_INSERT, values).scalar_one())


@contextmanager
def as_role(session: Session, role: str) -> Iterator[None]:
    """Run the block as ``role`` when this connection may (PostgreSQL); else as it is.

    ``SET ROLE`` is undone by ``RESET ROLE`` here, and by PostgreSQL itself if the
    transaction (or savepoint) rolls back, so the role never outlives the block.
    """
    if not _may_set_role(session, role):
        yield
        return
    connection = session.connection()
    # Straight to the driver: these two run around every append.
    connection.exec_driver_sql(f"SET ROLE {role}")
    try:
        yield
    except BaseException:
        # A failed statement aborted the transaction (its rollback resets the role); a
        # Python error did not, and the caller's next statements need their own rights.
        with contextlib.suppress(SQLAlchemyError):
            connection.exec_driver_sql("RESET ROLE")
        raise
    connection.exec_driver_sql("RESET ROLE")


def _may_set_role(session: Session, role: str) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return False
    connection = session.connection()
    # Cached per database connection (its pool record), so asked once per connection.
    cache: dict[str, bool] = connection.info.setdefault("claimdesk_audit_roles", {})
    if role not in cache:
        cache[role] = bool(
            connection.execute(
                text(
                    "SELECT 1 FROM pg_roles WHERE rolname = :role"
                    " AND pg_has_role(session_user, oid, 'MEMBER')"
                ),
                {"role": role},
            ).first()
        )
    return cache[role]
