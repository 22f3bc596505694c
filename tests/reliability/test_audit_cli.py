"""`claimdesk audit verify` / `seal` (the commands a person runs) after 20 concurrent writers.

tests/models/test_audit*.py check the chain, the checkpoint and the roles themselves;
this runs the CLI against a committed database, on both backends: it seals, verifies
against the checkpoint it keeps under the data folder, and names what was tampered.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from claimdesk.cli.main import app
from claimdesk.db import session_scope
from claimdesk.settings import Settings
from models import AuditEvent
from models.audit import audit_key, audit_key_path, chain_head, event_mac, make_checkpoint_store
from tests.models.test_audit import _append, _drop_guard
from tests.reliability.conftest import point_cli_at

runner = CliRunner()
WRITERS, EACH = 20, 10
ATTACKER_KEY = b"m" * 32


def _verify() -> tuple[int, set[int], str]:
    result = runner.invoke(app, ["audit", "verify"])
    named = {int(n) for n in re.findall(r"^event (\d+):", result.output, re.MULTILINE)}
    return result.exit_code, named, result.output


def _write(engine: Engine, writers: int = WRITERS, each: int = EACH) -> None:
    def writer(n: int) -> None:
        for i in range(each):
            with session_scope(engine) as session:
                _append(session, n * 100 + i)

    with ThreadPoolExecutor(max_workers=writers) as pool:
        list(pool.map(writer, range(writers)))


def test_audit_verify_cli_after_20_concurrent_writers_then_tampering(
    cli_env: Settings, module_engine: Engine
) -> None:
    engine = module_engine
    _write(engine)
    code, named, output = _verify()
    assert (code, named) == (0, set()), output
    assert re.search(r"audit chain intact: \d+ event\(s\) chained, 0 not sealed yet", output)
    assert "matches the checkpoint" in runner.invoke(app, ["audit", "verify"]).output
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.seal_seq))).all()
    assert len(events) >= WRITERS * EACH and all(e.hash for e in events)

    changed, deleted, after_deleted = events[50], events[120], events[121]
    with session_scope(engine) as session:
        _drop_guard(session)
        session.execute(
            text("UPDATE audit_event SET actor = 'mallory' WHERE id = :id"), {"id": changed.id}
        )
    code, named, _ = _verify()
    assert (code, named) == (1, {changed.id})

    with session_scope(engine) as session:
        session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": deleted.id})
    code, named, _ = _verify()
    assert (code, named) == (1, {changed.id, after_deleted.id})

    with session_scope(engine) as session:
        head = chain_head(session)
        # A new row chained onto an old event, with a MAC under a key of the attacker's.
        forged = _append(session, 999)
        mac = event_mac(
            ATTACKER_KEY,
            forged.model_dump(),
            seal_seq=head.count + 1,
            prev_hash=events[10].hash or "",
        )
        session.execute(
            text("UPDATE audit_event SET seal_seq = :s, prev_hash = :p, hash = :h WHERE id = :id"),
            {"s": head.count + 1, "p": events[10].hash, "h": mac, "id": forged.id},
        )
        forged_id = forged.id
    code, named, output = _verify()
    assert code == 1 and named == {changed.id, after_deleted.id, forged_id}
    assert "Traceback" not in output


def test_audit_verify_cli_catches_a_truncated_tail_and_an_emptied_table(
    fresh_settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_cli_at(fresh_settings, monkeypatch)
    _write(engine, writers=20, each=2)
    code, _, output = _verify()
    assert code == 0, output
    checkpoint = make_checkpoint_store(fresh_settings).latest()
    assert checkpoint is not None and checkpoint.count == 40

    with session_scope(engine) as session:
        _drop_guard(session)
        session.execute(text("DELETE FROM audit_event WHERE seal_seq > 35"))
    code, named, output = _verify()
    assert code == 1 and named == set()
    assert "the chain ends at 35 events" in output and "deleted from the end" in output

    with session_scope(engine) as session:
        session.execute(text("DELETE FROM audit_event"))
    code, _, output = _verify()
    assert code == 1 and "holds no chained events" in output
    # A failed verify writes no checkpoint that would make the damage look normal.
    latest = make_checkpoint_store(fresh_settings).latest()
    assert latest is not None and latest.count == 40


def test_audit_seal_cli_then_a_missing_key_is_a_clear_error(
    fresh_settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_cli_at(fresh_settings, monkeypatch)
    _write(engine, writers=3, each=1)
    result = runner.invoke(app, ["audit", "seal"])
    assert (result.exit_code, result.output.strip()) == (0, "sealed 3 event(s)")
    assert audit_key(fresh_settings, create=False)
    audit_key_path(fresh_settings).unlink()
    _write(engine, writers=1, each=1)
    for command in (["audit", "seal"], ["audit", "verify"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 1, result.output
        assert "audit.key' is missing" in result.output and "Traceback" not in result.output
    assert not audit_key_path(fresh_settings).exists()  # no new key made for a sealed trail
