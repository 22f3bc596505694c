"""PostgreSQL crashes and restarts under load: the app recovers without a human, loses nothing.

A throwaway cluster (``pg_cluster.ThrowawayCluster``, never the shared server); 6
specialists work the queue through the service layer while an auditor thread appends
audit events; the server is stopped the hard way (``pg_ctl stop -m immediate``, a
crash: recovery from the WAL), left down for a second, started again. Afterwards
every thread has committed work again on the same engine (``pool_pre_ping`` drops
the dead connections), and what the threads say they committed is exactly what the
database holds: no decision twice, none lost; the audit chain still verifies.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, col, select

from claimdesk.db import make_engine, session_scope
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings
from claimdesk.workqueue.resolve import reconcile_resumes
from models import AuditEvent, append_audit_event, verify_audit_chain
from tests.reliability.pg_cluster import ThrowawayCluster, pg_bin
from tests.reliability.specialists import RecordingResumer, Tally, check_exactly_once, seed_tasks
from tests.reliability.specialists import work as work_queue

pytestmark = [
    pytest.mark.skipif(pg_bin() is None, reason="no PostgreSQL server binaries (initdb/pg_ctl)"),
    pytest.mark.timeout(240),
]
SPECIALISTS = 6


@pytest.fixture
def cluster() -> Iterator[ThrowawayCluster]:
    cluster = ThrowawayCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


class AuditWriter:
    """Appends numbered audit events; after an unanswered commit, asks the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.committed: set[int] = set()
        self.errors = 0
        self.last_success = 0.0

    def run(self, stop: threading.Event) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                with session_scope(self.engine) as session:
                    append_audit_event(
                        session,
                        actor="auditor-thread",
                        action="load.tick",
                        entity_type="tick",
                        entity_id=n,
                    )
                self.committed.add(n)
                self.last_success = time.monotonic()
            except (OperationalError, DBAPIError):
                self.errors += 1
                time.sleep(0.2)
                try:
                    with Session(self.engine) as session:
                        if session.exec(
                            select(AuditEvent.id).where(
                                AuditEvent.action == "load.tick", AuditEvent.entity_id == str(n)
                            )
                        ).first():
                            self.committed.add(n)
                except (OperationalError, DBAPIError):
                    pass  # still down; this tick stays unknown until the end
            time.sleep(0.02)


def test_app_recovers_from_a_postgresql_crash_under_load(cluster: ThrowawayCluster) -> None:
    engine = make_engine(Settings(_env_file=None, database_url=cluster.url), pool_size=10)
    upgrade_database(engine)
    names = seed_tasks(engine, tasks=2000, specialists=SPECIALISTS)
    resumer = RecordingResumer()
    tallies = [Tally(name) for name in names]
    auditor = AuditWriter(engine)
    stop = threading.Event()
    crashed: list[BaseException] = []

    def guarded(target, *args) -> None:  # type: ignore[no-untyped-def]
        try:
            target(*args)
        except BaseException as exc:  # a thread that dies is a failure: surfaced below
            crashed.append(exc)

    threads = [
        threading.Thread(
            target=guarded,
            args=(lambda t=t: work_queue(engine, t, stop, resumer, retry_errors=True),),
        )
        for t in tallies
    ]
    threads.append(threading.Thread(target=guarded, args=(auditor.run, stop)))
    for thread in threads:
        thread.start()
    time.sleep(3)
    before = sum(len(t.resolved) for t in tallies)
    cluster.stop("immediate")
    time.sleep(1.5)
    cluster.start()
    restarted_at = time.monotonic()
    time.sleep(6)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not crashed, crashed
    after = sum(len(t.resolved) for t in tallies)
    errors = sum(sum(t.errors.values()) for t in tallies) + auditor.errors
    print(
        f"\npg-restart resolved_before={before} resolved_total={after} "
        f"audit_ticks={len(auditor.committed)} errors_seen={errors}"
    )
    assert errors > 0, "the crash was not noticed: the test proved nothing"
    # Every thread recovered by itself.
    assert all(t.last_success > restarted_at for t in tallies), [
        (t.username, dict(t.errors)) for t in tallies if t.last_success <= restarted_at
    ]
    assert auditor.last_success > restarted_at
    # Nothing written twice, nothing lost.
    check_exactly_once(engine, tallies, resumer)
    with Session(engine) as session:
        ticks = session.exec(
            select(AuditEvent.entity_id).where(AuditEvent.action == "load.tick")
        ).all()
        assert len(ticks) == len(set(ticks)), "an audit event was written twice"
        assert auditor.committed <= {int(t) for t in ticks if t}, "a committed audit event is gone"
        assert verify_audit_chain(session) == []
    # Decisions whose resume was lost in the crash are resumed by the reconciler, once.
    reconcile_resumes(engine, resumer)
    resumed = [d for _run, d in resumer.calls]
    committed = {d for t in tallies for d in t.resolved.values()}
    assert set(resumed) == committed
    with Session(engine) as session:
        from models import ReviewDecision

        assert (
            session.exec(
                select(ReviewDecision).where(col(ReviewDecision.resumed_at).is_(None))
            ).all()
            == []
        )
    engine.dispose()
