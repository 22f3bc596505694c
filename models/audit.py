"""The audit trail: append-only, hash-chained, never updated or deleted.

Each row's ``hash`` covers its own fields and the previous row's hash, so a
changed, deleted or inserted row breaks the chain at that point. Appends are
serialised (an advisory lock on PostgreSQL; SQLite's write lock, taken at
BEGIN by ``claimdesk.db``) so two writers can never chain onto the same row.
The migration adds triggers that make the database itself refuse UPDATE and
DELETE on the table.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Field, Session, SQLModel, col, select

from models._fields import json_field, timestamp_field
from models.types import utcnow

GENESIS_HASH = "0" * 64
# Any constant works; it only has to be the same for every writer.
_AUDIT_LOCK_ID = 0x0A0D17


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
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
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


def _digest(event: AuditEvent) -> str:
    payload = json.dumps(
        [
            event.at.isoformat(),
            event.actor,
            event.action,
            event.entity_type,
            event.entity_id,
            event.claim_id,
            event.details,
            event.prev_hash,
        ],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


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
    """Chain a new event onto the trail inside the caller's transaction."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _AUDIT_LOCK_ID})
    last = session.exec(
        select(AuditEvent.hash).order_by(col(AuditEvent.id).desc()).limit(1)
    ).first()
    event = AuditEvent(
        at=utcnow(),
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        claim_id=claim_id,
        details=details or {},
        prev_hash=last or GENESIS_HASH,
        hash="",
    )
    event.hash = _digest(event)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    problem: str


def verify_audit_chain(session: Session, *, batch_size: int = 5000) -> list[ChainBreak]:
    """Walk the whole trail in order; return every place where the chain does not hold."""
    breaks: list[ChainBreak] = []
    expected_prev = GENESIS_HASH
    previous_id = 0
    while True:
        rows = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.id) > previous_id)
            .order_by(col(AuditEvent.id))
            .limit(batch_size)
            # Read what the database holds, not what this session cached.
            .execution_options(populate_existing=True)
        ).all()
        if not rows:
            return breaks
        for event in rows:
            assert event.id is not None
            if event.prev_hash != expected_prev:
                breaks.append(
                    ChainBreak(
                        event.id,
                        "previous hash does not match: a row was removed or inserted before it",
                    )
                )
            if _digest(event) != event.hash:
                breaks.append(
                    ChainBreak(event.id, "content does not match its hash: the row was changed")
                )
            expected_prev = event.hash
            previous_id = event.id
