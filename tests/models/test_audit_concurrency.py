"""Appends from many writers while a sealer runs: every event chained once, in a valid chain."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.db import make_engine, session_scope
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings
from models import AuditEvent, append_audit_event
from models.audit import (
    ChainHead,
    LocalCheckpointStore,
    chain_head,
    checkpointer,
    seal_pending,
    verify_audit_chain,
    verify_audit_trail,
)
from tests.conftest import _Databases

KEY = b"c" * 32
WRITERS, EACH = 20, 10


@pytest.fixture
def engine(fresh_settings: Settings) -> Iterator[Engine]:
    pg = fresh_settings.effective_database_url.startswith("postgresql")
    engine = make_engine(fresh_settings, **({"pool_size": 24, "max_overflow": 4} if pg else {}))
    upgrade_database(engine)
    yield engine
    engine.dispose()


def test_20_concurrent_writers_with_a_sealer_running_then_seal_then_verify(
    engine: Engine,
) -> None:
    done = threading.Event()
    sealed_while_writing: list[int] = []

    def sealer() -> None:
        while not done.is_set():
            sealed_while_writing.append(seal_pending(engine, KEY, batch_size=7))

    def writer(n: int) -> None:
        for i in range(EACH):
            with session_scope(engine) as s:
                append_audit_event(
                    s,
                    actor=f"user{n}",
                    action="task.viewed",
                    entity_type="review_task",
                    entity_id=i,
                )

    sealing = threading.Thread(target=sealer)
    sealing.start()
    try:
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            list(pool.map(writer, range(WRITERS)))
    finally:
        done.set()
        sealing.join()
    remaining = seal_pending(engine, KEY)
    assert sum(sealed_while_writing) + remaining == WRITERS * EACH
    assert sum(sealed_while_writing) > 0  # the sealer really ran beside the writers
    with Session(engine) as s:
        events = s.exec(select(AuditEvent).order_by(col(AuditEvent.seal_seq))).all()
        assert verify_audit_chain(s, KEY) == []
        report = verify_audit_trail(s, KEY, None)
    assert [e.seal_seq for e in events] == list(range(1, WRITERS * EACH + 1))
    assert len({e.prev_hash for e in events}) == WRITERS * EACH  # no fork
    assert {(e.actor, e.entity_id) for e in events} == {
        (f"user{n}", str(i)) for n in range(WRITERS) for i in range(EACH)
    }
    assert (report.intact, report.unsealed, report.head.count) == (True, 0, WRITERS * EACH)


@pytest.mark.postgres
def test_an_event_committed_after_a_later_id_was_sealed_is_chained_next(
    databases: _Databases, tmp_path: object
) -> None:
    """Ids commit out of order on PostgreSQL: the sealer neither waits for nor skips a gap."""
    engine = make_engine(databases.settings("postgresql"))
    upgrade_database(engine)
    try:
        slow = Session(engine)
        early = append_audit_event(slow, actor="slow", action="a", entity_type="claim")
        with session_scope(engine) as fast:
            late = append_audit_event(fast, actor="fast", action="a", entity_type="claim")
        early_id, late_id = early.id, late.id
        assert early_id is not None and late_id is not None and early_id < late_id
        assert seal_pending(engine, KEY) == 1  # the open transaction's row is not visible yet
        slow.commit()
        slow.close()
        assert seal_pending(engine, KEY) == 1
        with Session(engine) as s:
            by_id = {e.id: e for e in s.exec(select(AuditEvent)).all()}
            assert (by_id[late_id].seal_seq, by_id[early_id].seal_seq) == (1, 2)
            assert verify_audit_chain(s, KEY) == []
        # A rolled-back append leaves a gap in the ids that nothing waits on.
        with Session(engine) as rolled_back:
            append_audit_event(rolled_back, actor="gone", action="a", entity_type="claim")
            rolled_back.rollback()
        with session_scope(engine) as s:
            append_audit_event(s, actor="after", action="a", entity_type="claim")
        assert seal_pending(engine, KEY) == 1
        with Session(engine) as s:
            assert verify_audit_trail(s, KEY, None).head.count == 3
    finally:
        engine.dispose()


def test_a_seal_inside_a_callers_transaction_checkpoints_only_once_committed(
    engine: Engine, tmp_path: object
) -> None:
    from pathlib import Path

    store = LocalCheckpointStore(Path(str(tmp_path)) / "cp.jsonl")
    seen: list[tuple[ChainHead, ChainHead]] = []
    on_sealed = checkpointer(store, KEY, every=1)

    def record(before: ChainHead, after: ChainHead) -> None:
        seen.append((before, after))
        on_sealed(before, after)

    with Session(engine) as s:
        append_audit_event(s, actor="a", action="a", entity_type="claim")
        assert seal_pending(s, KEY, on_sealed=record) == 1
        s.rollback()
        s.commit()  # a later commit of the same session does not resurrect the rolled-back seal
    assert seen == [] and store.latest() is None
    with Session(engine) as s:
        append_audit_event(s, actor="a", action="a", entity_type="claim")
        seal_pending(s, KEY, on_sealed=record)
        s.commit()
        head = chain_head(s)
    latest = store.latest()
    assert len(seen) == 1 and latest is not None
    assert (latest.count, latest.head_id, latest.head_hash) == (1, head.event_id, head.hash)
