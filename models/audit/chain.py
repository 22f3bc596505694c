"""Sealing (chaining appended events with a keyed HMAC) and walking the chain.

Why the chain runs in *seal order* (``seal_seq``) rather than id order: on
PostgreSQL an id is taken from the sequence at INSERT, but transactions commit in
any order, so when the sealer runs, id 11 may still be invisible (its transaction
open) while id 12 is committed; and a rolled-back transaction leaves a gap that is
never filled. Chaining by id would have to wait on every gap without knowing
whether it will ever fill. Instead the sealer chains, under one lock, the rows it
can see that are not sealed yet, in id order, at positions ``last_seq + 1 ...``;
a row that commits later is simply chained in a later batch. Positions are
contiguous from 1, so a deleted sealed row shows as a gap in them, and each MAC
covers the row's id, content, position and the previous MAC.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, event, func, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from claimdesk.errors import ConfigError
from models.audit.events import SEALER_ROLE, AuditEvent, as_role
from models.types import utcnow

GENESIS_HASH = "0" * 64
# Any constant works; it only has to be the same for every sealer.
_AUDIT_LOCK_ID = 0x0A0D17
_MAC_DOMAIN = b"claimdesk-audit-event-v1\n"
TABLE = AuditEvent.__table__  # type: ignore[attr-defined]
_CONTENT = [TABLE.c[name] for name in ("id", "at", "actor", "action", "entity_type")] + [
    TABLE.c[name] for name in ("entity_id", "claim_id", "details")
]


def event_mac(key: bytes, row: Mapping[Any, Any], *, seal_seq: int, prev_hash: str) -> str:
    """HMAC-SHA256 of an event's id and content, its chain position and the previous MAC."""
    payload = json.dumps(
        [
            seal_seq,
            row["id"],
            row["at"].isoformat(),
            row["actor"],
            row["action"],
            row["entity_type"],
            row["entity_id"],
            row["claim_id"],
            row["details"],
            prev_hash,
        ],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hmac.new(key, _MAC_DOMAIN + payload.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainHead:
    """The last sealed event: ``count`` events are chained, ending at ``event_id``."""

    count: int
    event_id: int | None
    hash: str


def chain_head(session: Session) -> ChainHead:
    row = session.execute(
        select(TABLE.c.seal_seq, TABLE.c.id, TABLE.c.hash)
        .where(TABLE.c.seal_seq.is_not(None))
        .order_by(TABLE.c.seal_seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return ChainHead(0, None, GENESIS_HASH)
    return ChainHead(row.seal_seq, row.id, row.hash or "")


def count_unsealed(session: Session) -> int:
    return session.execute(
        select(func.count()).select_from(TABLE).where(TABLE.c.seal_seq.is_(None))
    ).scalar_one()


# Called with the head after each committed seal batch (``models.audit.checkpoint``).
OnSealed = Callable[[ChainHead, ChainHead], None]


def seal_pending(
    target: Session | Engine,
    key: bytes,
    *,
    batch_size: int = 1000,
    on_sealed: OnSealed | None = None,
) -> int:
    """Chain every committed, unsealed event; return how many were sealed.

    With an engine each batch is its own short transaction; with a session
    everything happens in the caller's transaction (``on_sealed`` then runs after
    the caller commits, never for a rollback). ``on_sealed(before, after)`` is how a
    checkpoint gets written (see ``models.audit.checkpoint.checkpointer``).
    """
    if isinstance(target, Engine):
        total = 0
        while True:
            with Session(target) as session, session.begin():
                before, after = _seal_batch(session, key, batch_size)
            if after.count > before.count and on_sealed is not None:
                on_sealed(before, after)
            total += after.count - before.count
            if after.count - before.count < batch_size:
                return total
    first: ChainHead | None = None
    last: ChainHead | None = None
    while True:
        before, after = _seal_batch(target, key, batch_size)
        first, last = first or before, after
        if after.count - before.count < batch_size:
            break
    assert first is not None and last is not None
    if on_sealed is not None and last.count > first.count:
        _after_commit(target, on_sealed, first, last)
    return last.count - first.count


def _after_commit(
    session: Session, on_sealed: OnSealed, before: ChainHead, after: ChainHead
) -> None:
    """Run ``on_sealed`` when the caller commits; forget it if they roll back.

    (A seal inside a savepoint that is rolled back while the outer transaction
    commits would still call it: seal outside savepoints.)
    """

    def committed(_session: Session) -> None:
        event.remove(session, "after_rollback", rolled_back)
        on_sealed(before, after)

    def rolled_back(_session: Session) -> None:
        event.remove(session, "after_commit", committed)

    event.listen(session, "after_commit", committed, once=True)
    event.listen(session, "after_rollback", rolled_back, once=True)


def _seal_batch(session: Session, key: bytes, batch_size: int) -> tuple[ChainHead, ChainHead]:
    # One sealer at a time: an advisory lock on PostgreSQL; on SQLite the write lock
    # taken at BEGIN (claimdesk.db) already serialises every writer.
    if session.get_bind().dialect.name == "postgresql":
        isolation = session.execute(
            text("SELECT current_setting('transaction_isolation'), pg_advisory_xact_lock(:id)"),
            {"id": _AUDIT_LOCK_ID},
        ).scalar_one()
        # Each statement must see what the previous sealer committed before the lock
        # came free; a snapshot taken at the lock (REPEATABLE READ) would not.
        if isolation != "read committed":
            raise ConfigError(
                f"seal_pending needs a READ COMMITTED transaction, not {isolation.upper()}."
            )
    with as_role(session, SEALER_ROLE):
        head = chain_head(session)
        _check_head(session, key, head)
        rows = (
            session.execute(
                select(*_CONTENT)
                # A row with a MAC but no position was tampered with: verify reports
                # it, and the database would refuse to seal it.
                .where(TABLE.c.seal_seq.is_(None), TABLE.c.hash.is_(None))
                .order_by(TABLE.c.id)
                .limit(batch_size)
            )
            .mappings()
            .all()
        )
        if not rows:
            return head, head
        now, prev, seq, params = utcnow(), head.hash, head.count, []
        for row in rows:
            seq += 1
            mac = event_mac(key, row, seal_seq=seq, prev_hash=prev)
            params.append({"b_id": row["id"], "b_seq": seq, "b_prev": prev, "b_hash": mac})
            prev = mac
        session.execute(
            update(TABLE)
            .where(TABLE.c.id == bindparam("b_id"), TABLE.c.seal_seq.is_(None))
            .values(
                seal_seq=bindparam("b_seq"),
                prev_hash=bindparam("b_prev"),
                hash=bindparam("b_hash"),
                sealed_at=now,
            ),
            params,
        )
    # AuditEvent objects this session holds were sealed behind its back.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, AuditEvent):
            session.expire(obj, ["seal_seq", "prev_hash", "hash", "sealed_at"])
    return head, ChainHead(seq, rows[-1]["id"], prev)


def _check_head(session: Session, key: bytes, head: ChainHead) -> None:
    """Refuse to extend a chain this key did not seal (another host's key, or a forged head)."""
    if head.count == 0:
        return
    row = (
        session.execute(select(*_CONTENT, TABLE.c.prev_hash).where(TABLE.c.id == head.event_id))
        .mappings()
        .one()
    )
    if event_mac(key, row, seal_seq=head.count, prev_hash=row["prev_hash"] or "") != head.hash:
        raise ConfigError(
            f"the audit chain's last event (id {head.event_id}, position {head.count}) does not "
            "verify with this audit key: the key is not the one the trail was sealed with "
            "(CLAIMDESK_AUDIT_KEY or <data_dir>/audit.key), or the event was changed; "
            "nothing was sealed; run `claimdesk audit verify`."
        )


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    problem: str


def verify_audit_chain(
    session: Session, key: bytes | None = None, *, batch_size: int = 5000
) -> list[ChainBreak]:
    """Walk the sealed chain in order; return every place where it does not hold.

    Unsealed events are not chained yet; they are only checked to carry no seal
    fields (``models.audit.trail`` reports how many there are). Without ``key``
    the process settings' key is used, read only if a sealed event exists.
    """
    breaks: list[ChainBreak] = []
    expected_prev, expected_seq = GENESIS_HASH, 1
    columns = [*_CONTENT, TABLE.c.seal_seq, TABLE.c.prev_hash, TABLE.c.hash]
    query = select(*columns).where(TABLE.c.seal_seq.is_not(None))
    while True:
        rows = (
            session.execute(
                # Keyset on the last position read (expected_seq - 1), not on the
                # expected one: a forged position 0 or below still gets read.
                (query if expected_seq == 1 else query.where(TABLE.c.seal_seq >= expected_seq))
                .order_by(TABLE.c.seal_seq)
                .limit(batch_size)
            )
            .mappings()
            .all()
        )
        if not rows:
            break
        if key is None:
            key = _settings_key()
        for row in rows:
            seq = row["seal_seq"]
            if seq != expected_seq or row["prev_hash"] != expected_prev:
                breaks.append(
                    ChainBreak(
                        row["id"],
                        "previous hash does not match: a row was removed or inserted before it"
                        + (
                            f" (chain positions {expected_seq}..{seq - 1} are missing)"
                            if seq > expected_seq
                            else ""
                        ),
                    )
                )
            if event_mac(key, row, seal_seq=seq, prev_hash=row["prev_hash"] or "") != row["hash"]:
                breaks.append(
                    ChainBreak(
                        row["id"],
                        "content does not match its MAC: the row was changed "
                        "(or sealed with another key)",
                    )
                )
            expected_prev, expected_seq = row["hash"], seq + 1
    half_sealed = session.execute(
        select(TABLE.c.id)
        .where(TABLE.c.seal_seq.is_(None))
        .where((TABLE.c.hash.is_not(None)) | (TABLE.c.prev_hash.is_not(None)))
        .order_by(TABLE.c.id)
    ).scalars()
    breaks.extend(
        ChainBreak(event_id, "has a MAC but no chain position: its seal was removed")
        for event_id in half_sealed
    )
    return breaks


def _settings_key() -> bytes:
    from claimdesk.settings import get_settings
    from models.audit.keys import audit_key

    return audit_key(get_settings(), create=False)
