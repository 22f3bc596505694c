"""The audit trail: append-only in the database, hash-chained, never forked."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, col, select

from claimdesk.db import make_engine, session_scope
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings
from models import AuditEvent, append_audit_event, verify_audit_chain


def _append(session: Session, n: int) -> AuditEvent:
    return append_audit_event(
        session, actor="alice", action="task.viewed", entity_type="review_task", entity_id=n
    )


def test_audit_chain_links_each_event_to_the_previous(session: Session) -> None:
    first, second = _append(session, 1), _append(session, 2)
    assert second.prev_hash == first.hash
    assert verify_audit_chain(session) == []


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_event SET actor = 'mallory'", "DELETE FROM audit_event"]
)
def test_audit_database_refuses_update_and_delete(session: Session, statement: str) -> None:
    _append(session, 1)
    with pytest.raises(DatabaseError, match="append-only"), session.begin_nested():
        session.execute(text(statement))


def _drop_guard(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"))
    else:
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        session.execute(text("DROP TRIGGER audit_event_no_delete"))


def test_audit_verify_detects_changed_row(session: Session) -> None:
    events = [_append(session, n) for n in range(4)]
    _drop_guard(session)
    session.execute(
        text("UPDATE audit_event SET actor = 'mallory' WHERE id = :id"), {"id": events[2].id}
    )
    breaks = verify_audit_chain(session)
    assert [(b.event_id, "changed" in b.problem) for b in breaks] == [(events[2].id, True)]


def test_audit_verify_detects_deleted_row(session: Session) -> None:
    events = [_append(session, n) for n in range(4)]
    _drop_guard(session)
    session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": events[1].id})
    breaks = verify_audit_chain(session)
    assert [b.event_id for b in breaks] == [events[2].id]
    assert "removed or inserted" in breaks[0].problem


def test_audit_verify_detects_inserted_row(session: Session) -> None:
    events = [_append(session, n) for n in range(3)]
    last = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
    assert last is not None
    # A forged row with a self-consistent hash but chained onto the wrong predecessor.
    forged = AuditEvent(
        at=last.at,
        actor="mallory",
        action="x",
        entity_type="claim",
        details={},
        prev_hash=events[0].hash,
        hash="",
    )
    from models.audit import _digest

    forged.hash = _digest(forged)
    session.add(forged)
    session.flush()
    breaks = verify_audit_chain(session)
    assert [b.event_id for b in breaks] == [forged.id]


def test_audit_chain_holds_under_20_concurrent_writers(fresh_settings: Settings) -> None:
    engine = (
        make_engine(fresh_settings, pool_size=20, max_overflow=5)
        if fresh_settings.effective_database_url.startswith("postgresql")
        else make_engine(fresh_settings)
    )
    upgrade_database(engine)

    def writer(n: int) -> None:
        for i in range(10):
            with session_scope(engine) as s:
                append_audit_event(
                    s,
                    actor=f"user{n}",
                    action="task.viewed",
                    entity_type="review_task",
                    entity_id=i,
                )

    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(writer, range(20)))
    with Session(engine) as s:
        assert len(s.exec(select(AuditEvent.id)).all()) == 200
        assert verify_audit_chain(s) == []
        hashes = s.exec(select(AuditEvent.prev_hash)).all()
        assert len(set(hashes)) == 200  # no two events chained onto the same predecessor
    engine.dispose()
