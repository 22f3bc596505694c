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

from sqlalchemy import Index, text
from sqlalchemy.exc import SQLAlchemyError
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
    """Record an event inside the caller's transaction; the sealer chains it after commit."""
    event = AuditEvent(
        at=utcnow(),
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        claim_id=claim_id,
        details=details or {},
    )
    # The caller's own pending rows are written first, with the caller's own rights.
    session.flush()
    with as_role(session, WRITER_ROLE):
        session.add(event)
        session.flush()
    return event


@contextmanager
def as_role(session: Session, role: str) -> Iterator[None]:
    """Run the block as ``role`` when this connection may (PostgreSQL); else as it is.

    ``SET ROLE`` is undone by ``RESET ROLE`` here, and by PostgreSQL itself if the
    transaction (or savepoint) rolls back, so the role never outlives the block.
    """
    if not _may_set_role(session, role):
        yield
        return
    session.execute(text(f"SET ROLE {role}"))
    try:
        yield
    except BaseException:
        # A failed statement aborted the transaction (its rollback resets the role); a
        # Python error did not, and the caller's next statements need their own rights.
        with contextlib.suppress(SQLAlchemyError):
            session.execute(text("RESET ROLE"))
        raise
    session.execute(text("RESET ROLE"))


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
