"""`claimdesk audit verify` (the command a person runs) after 20 concurrent writers, then tampering.

tests/models/test_audit.py checks ``verify_audit_chain`` itself (a changed, deleted or
inserted row; 20 writers); this runs the CLI against a committed database, on both
backends, with its helpers (``_append``, ``_drop_guard``) reused.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from claimdesk.cli.main import app
from claimdesk.db import session_scope
from claimdesk.settings import Settings
from models import AuditEvent
from models.audit import _digest
from tests.models.test_audit import _append, _drop_guard

runner = CliRunner()
WRITERS, EACH = 20, 10


def _verify() -> tuple[int, set[int]]:
    result = runner.invoke(app, ["audit", "verify"])
    named = {int(n) for n in re.findall(r"event (\d+):", result.output)}
    return result.exit_code, named


def test_audit_verify_cli_after_20_concurrent_writers_then_tampering(
    cli_env: Settings, module_engine: Engine
) -> None:
    engine = module_engine

    def writer(n: int) -> int:
        for i in range(EACH):
            with session_scope(engine) as session:
                _append(session, n * 100 + i)
        return EACH

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        written = sum(pool.map(writer, range(WRITERS)))
    assert written == WRITERS * EACH
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    assert len(events) >= written
    code, named = _verify()
    assert (code, named) == (0, set())
    assert "audit chain intact" in runner.invoke(app, ["audit", "verify"]).output

    changed, deleted, after_deleted = events[50], events[120], events[121]
    with session_scope(engine) as session:
        _drop_guard(session)
        session.execute(
            text("UPDATE audit_event SET actor = 'mallory' WHERE id = :id"), {"id": changed.id}
        )
    code, named = _verify()
    assert (code, named) == (1, {changed.id})

    with session_scope(engine) as session:
        session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": deleted.id})
    code, named = _verify()
    assert (code, named) == (1, {changed.id, after_deleted.id})

    with session_scope(engine) as session:
        last = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
        assert last is not None
        # Self-consistent hash, chained onto an old event: an insertion after the fact.
        forged = AuditEvent(
            at=last.at,
            actor="mallory",
            action="claim.viewed",
            entity_type="claim",
            details={},
            prev_hash=events[10].hash,
            hash="",
        )
        forged.hash = _digest(forged)
        session.add(forged)
        session.flush()
        forged_id = forged.id
    code, named = _verify()
    assert code == 1 and named == {changed.id, after_deleted.id, forged_id}
