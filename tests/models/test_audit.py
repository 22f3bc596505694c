"""The audit trail: appended unchained, sealed with a keyed HMAC, checked against a checkpoint.

Each tampering test plays someone who has the database (and can drop the trigger)
but not the audit key: what they change, rehash, insert or delete must show.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, col, select

from claimdesk.errors import ConfigError
from models import AuditEvent, append_audit_event, verify_audit_chain
from models.audit import (
    GENESIS_HASH,
    Checkpoint,
    LocalCheckpointStore,
    chain_head,
    event_mac,
    seal_pending,
    verify_audit_trail,
)

KEY = b"k" * 32
ATTACKER_KEY = b"m" * 32


def _append(session: Session, n: int) -> AuditEvent:
    return append_audit_event(
        session, actor="alice", action="task.viewed", entity_type="review_task", entity_id=n
    )


def _drop_guard(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"))
    else:
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        session.execute(text("DROP TRIGGER audit_event_no_delete"))


def _sealed(session: Session, n: int, key: bytes = KEY) -> list[AuditEvent]:
    events = [_append(session, i) for i in range(n)]
    seal_pending(session, key)
    for event in events:
        session.refresh(event)
    return events


def _row(session: Session, event_id: int | None) -> dict[str, object]:
    return dict(
        session.execute(text("SELECT * FROM audit_event WHERE id = :id"), {"id": event_id})
        .mappings()
        .one()
    )


def _typed_row(session: Session, event_id: int | None) -> AuditEvent:
    event = session.exec(
        select(AuditEvent)
        .where(AuditEvent.id == event_id)
        .execution_options(populate_existing=True)
    ).one()
    return event


def _reseal_from(session: Session, events: list[AuditEvent], start: int, key: bytes) -> None:
    """The attacker's rewrite: recompute every MAC from ``start`` on with ``key``."""
    prev = events[start - 1].hash if start else GENESIS_HASH
    for event in events[start:]:
        fresh = _typed_row(session, event.id)
        mac = event_mac(key, fresh.model_dump(), seal_seq=fresh.seal_seq or 0, prev_hash=prev or "")
        session.execute(
            text("UPDATE audit_event SET prev_hash = :p, hash = :h WHERE id = :id"),
            {"p": prev, "h": mac, "id": event.id},
        )
        prev = mac


def test_append_is_unchained_until_sealed_then_chained_in_order(session: Session) -> None:
    first, second = _append(session, 1), _append(session, 2)
    assert (first.seal_seq, first.prev_hash, first.hash) == (None, None, None)
    assert seal_pending(session, KEY) == 2
    assert seal_pending(session, KEY) == 0
    session.refresh(first)
    session.refresh(second)
    base = chain_head(session).count - 2
    assert (first.seal_seq, second.seal_seq) == (base + 1, base + 2)
    assert second.prev_hash == first.hash and first.hash and len(first.hash) == 64
    assert verify_audit_chain(session, KEY) == []


def test_mac_is_keyed(session: Session) -> None:
    (event,) = _sealed(session, 1)
    row = event.model_dump()
    seq, prev = event.seal_seq or 0, event.prev_hash or ""
    assert event_mac(KEY, row, seal_seq=seq, prev_hash=prev) == event.hash
    assert event_mac(ATTACKER_KEY, row, seal_seq=seq, prev_hash=prev) != event.hash


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET actor = 'mallory'",
        "DELETE FROM audit_event",
        # A sealed row cannot be unsealed or sealed again.
        "UPDATE audit_event SET hash = NULL, prev_hash = NULL, seal_seq = NULL",
        "UPDATE audit_event SET hash = 'f' || substr(hash, 2)",
    ],
)
def test_audit_database_refuses_update_and_delete(session: Session, statement: str) -> None:
    _sealed(session, 1)
    with pytest.raises(DatabaseError, match="append-only"), session.begin_nested():
        session.execute(text(statement))


def test_the_database_allows_sealing_only_with_nothing_else_changed(session: Session) -> None:
    event = _append(session, 1)
    seal = "seal_seq = -1, prev_hash = 'x', hash = 'y'"
    with pytest.raises(DatabaseError, match="append-only"), session.begin_nested():
        session.execute(
            text(f"UPDATE audit_event SET {seal}, actor = 'mallory' WHERE id = :id"),
            {"id": event.id},
        )
    # The sealer's own change is allowed (and rolled back with the test).
    session.execute(text(f"UPDATE audit_event SET {seal} WHERE id = :id"), {"id": event.id})
    assert _row(session, event.id)["seal_seq"] == -1


def test_audit_verify_detects_changed_row(session: Session) -> None:
    events = _sealed(session, 4)
    _drop_guard(session)
    session.execute(
        text("UPDATE audit_event SET actor = 'mallory' WHERE id = :id"), {"id": events[2].id}
    )
    breaks = verify_audit_chain(session, KEY)
    assert [(b.event_id, "changed" in b.problem) for b in breaks] == [(events[2].id, True)]


def _plain_sha256(session: Session, event: AuditEvent, prev: str) -> str:
    """Today's unkeyed digest: what an attacker without the key can compute."""
    row = _typed_row(session, event.id)
    fields = [row.at.isoformat(), row.actor, row.action, row.entity_type, row.entity_id]
    payload = json.dumps([*fields, row.claim_id, row.details, prev], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


@pytest.mark.parametrize("how", ["attacker's key", "plain sha256"])
def test_audit_verify_detects_rehashed_row(session: Session, how: str) -> None:
    """A changed row rehashed and the chain after it relinked: passes an unkeyed chain."""
    events = _sealed(session, 4)
    _drop_guard(session)
    session.execute(
        text("UPDATE audit_event SET actor = 'mallory' WHERE id = :id"), {"id": events[1].id}
    )
    if how == "attacker's key":
        _reseal_from(session, events, 1, ATTACKER_KEY)
    else:
        prev = events[0].hash or ""
        for event in events[1:]:
            digest = _plain_sha256(session, event, prev)
            session.execute(
                text("UPDATE audit_event SET prev_hash = :p, hash = :h WHERE id = :id"),
                {"p": prev, "h": digest, "id": event.id},
            )
            prev = digest
    breaks = verify_audit_chain(session, KEY)
    assert {b.event_id for b in breaks} == {e.id for e in events[1:]}
    assert all("changed" in b.problem for b in breaks)


def test_audit_verify_detects_deleted_row(session: Session) -> None:
    events = _sealed(session, 4)
    _drop_guard(session)
    session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": events[1].id})
    breaks = verify_audit_chain(session, KEY)
    assert [b.event_id for b in breaks] == [events[2].id]
    assert "removed or inserted" in breaks[0].problem


def test_audit_verify_detects_inserted_row(session: Session) -> None:
    events = _sealed(session, 3)
    head = chain_head(session)
    # A forged row chained onto an old event, with a MAC under the attacker's key.
    forged = AuditEvent(at=events[-1].at, actor="mallory", action="x", entity_type="claim")
    session.add(forged)
    session.flush()
    mac = event_mac(
        ATTACKER_KEY, forged.model_dump(), seal_seq=head.count + 1, prev_hash=events[0].hash or ""
    )
    session.execute(
        text("UPDATE audit_event SET seal_seq = :s, prev_hash = :p, hash = :h WHERE id = :id"),
        {"s": head.count + 1, "p": events[0].hash, "h": mac, "id": forged.id},
    )
    breaks = verify_audit_chain(session, KEY)
    assert {b.event_id for b in breaks} == {forged.id}
    assert {("removed or inserted" in b.problem, "changed" in b.problem) for b in breaks} == {
        (True, False),
        (False, True),
    }


def test_audit_verify_detects_a_stripped_seal(session: Session) -> None:
    events = _sealed(session, 2)
    _drop_guard(session)
    session.execute(
        text("UPDATE audit_event SET seal_seq = NULL WHERE id = :id"), {"id": events[0].id}
    )
    problems = {b.event_id: b.problem for b in verify_audit_chain(session, KEY)}
    assert "no chain position" in problems[events[0].id]
    assert "removed or inserted" in problems[events[1].id]


def _checkpointed(session: Session, tmp_path: Path, n: int) -> tuple[list[AuditEvent], Checkpoint]:
    events = _sealed(session, n)
    checkpoint = Checkpoint.sign(KEY, chain_head(session))
    store = LocalCheckpointStore(tmp_path / "checkpoints.jsonl")
    store.write(checkpoint)
    assert store.latest() == checkpoint
    return events, checkpoint


def test_audit_verify_detects_truncated_tail(session: Session, tmp_path: Path) -> None:
    events, checkpoint = _checkpointed(session, tmp_path, 5)
    assert verify_audit_trail(session, KEY, checkpoint).intact
    _drop_guard(session)
    session.execute(text("DELETE FROM audit_event WHERE id >= :id"), {"id": events[3].id})
    # What is left is a consistent chain: only the checkpoint shows the missing tail.
    assert verify_audit_chain(session, KEY) == []
    report = verify_audit_trail(session, KEY, checkpoint)
    assert not report.intact
    assert "deleted from the end" in report.problems[0]
    assert str(events[-1].id) in report.problems[0]


def test_audit_verify_detects_emptied_table(session: Session, tmp_path: Path) -> None:
    _, checkpoint = _checkpointed(session, tmp_path, 3)
    _drop_guard(session)
    session.execute(text("DELETE FROM audit_event"))
    assert verify_audit_chain(session, KEY) == []
    report = verify_audit_trail(session, KEY, checkpoint)
    assert report.problems == [
        f"the audit trail holds no chained events, but the checkpoint of "
        f"{checkpoint.written_at} recorded {checkpoint.count} chained events ending at "
        f"event {checkpoint.head_id}"
    ]


def test_audit_verify_detects_rewritten_head_and_forged_checkpoint(
    session: Session, tmp_path: Path
) -> None:
    events, checkpoint = _checkpointed(session, tmp_path, 3)
    _drop_guard(session)
    session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": events[-1].id})
    session.expunge_all()  # SQLite hands the deleted id out again
    # The tail replaced by a new event sealed at the same position (attacker's key).
    replacement = _append(session, 99)
    head = chain_head(session)
    mac = event_mac(
        ATTACKER_KEY, replacement.model_dump(), seal_seq=head.count + 1, prev_hash=head.hash
    )
    session.execute(
        text("UPDATE audit_event SET seal_seq = :s, prev_hash = :p, hash = :h WHERE id = :id"),
        {"s": head.count + 1, "p": head.hash, "h": mac, "id": replacement.id},
    )
    report = verify_audit_trail(session, KEY, checkpoint)
    assert "was rewritten" in report.problems[0]
    forged = Checkpoint(0, None, GENESIS_HASH, checkpoint.written_at, checkpoint.mac)
    assert "valid signature" in verify_audit_trail(session, KEY, forged).problems[0]


def test_sealing_with_another_key_is_refused(session: Session) -> None:
    _sealed(session, 1)
    event = _append(session, 2)
    with pytest.raises(ConfigError, match="does not verify with this audit key"):
        seal_pending(session, ATTACKER_KEY)
    session.refresh(event)
    assert event.seal_seq is None


def test_unsealed_rows_are_counted_and_need_no_key(session: Session) -> None:
    head = chain_head(session)
    _append(session, 1)
    report = verify_audit_trail(session, KEY, None)
    assert (report.intact, report.unsealed, report.head) == (True, 1, head)
    events = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    assert events[-1].hash is None
