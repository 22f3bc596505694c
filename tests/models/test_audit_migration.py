"""Migration 0006 on a trail written by 0005's code (plain SHA-256 chain, sealed at append)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from claimdesk.db import make_engine
from claimdesk.migrate import current_revision, upgrade_database
from claimdesk.settings import Settings
from models.audit import count_unsealed, seal_pending, verify_audit_chain
from models.types import UTCDateTime, utcnow

KEY = b"g" * 32
_table = sa.table(
    "audit_event",
    *(sa.column(n, sa.String()) for n in ("actor", "action", "entity_type", "entity_id")),
    sa.column("at", UTCDateTime()),
    sa.column("claim_id", sa.Integer()),
    sa.column("details", sa.JSON()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


def _legacy_digest(values: dict[str, object]) -> str:
    """models/audit.py's _digest as of revision 0005."""
    at = values["at"]
    assert hasattr(at, "isoformat")
    payload = json.dumps(
        [at.isoformat()]
        + [values[n] for n in ("actor", "action", "entity_type", "entity_id", "claim_id")]
        + [values["details"], values["prev_hash"]],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _legacy_trail(engine: Engine, n: int) -> None:
    prev, start = "0" * 64, utcnow()
    with engine.begin() as conn:
        for i in range(n):
            values: dict[str, object] = {
                "at": start + timedelta(seconds=i),
                "actor": f"user{i}",
                "action": "claim.viewed",
                "entity_type": "claim",
                "entity_id": str(i),
                "claim_id": i,
                "details": {"n": i},
                "prev_hash": prev,
            }
            values["hash"] = prev = _legacy_digest(values)
            conn.execute(sa.insert(_table).values(**values))


@pytest.fixture
def engine_at_0005(fresh_settings: Settings) -> Engine:
    engine = make_engine(fresh_settings)
    upgrade_database(engine, "0005")
    return engine


def test_upgrade_unseals_an_intact_legacy_trail_and_the_sealer_chains_it(
    engine_at_0005: Engine,
) -> None:
    engine = engine_at_0005
    _legacy_trail(engine, 5)
    upgrade_database(engine)
    head = current_revision(engine)
    with Session(engine) as s:
        assert count_unsealed(s) == 5
    assert seal_pending(engine, KEY) == 5
    with Session(engine) as s:
        assert verify_audit_chain(s, KEY) == []
        rows = s.execute(text("SELECT actor, seal_seq FROM audit_event ORDER BY id")).all()
    assert rows == [(f"user{i}", i + 1) for i in range(5)]
    # Down and up again: the downgrade rebuilt a legacy chain the upgrade accepts.
    upgrade_database_to(engine, "0005")
    upgrade_database(engine)
    assert current_revision(engine) == head
    engine.dispose()


def upgrade_database_to(engine: Engine, revision: str) -> None:
    from alembic import command

    from claimdesk.migrate import alembic_config

    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_upgrade_refuses_a_tampered_legacy_trail(engine_at_0005: Engine) -> None:
    engine = engine_at_0005
    _legacy_trail(engine, 4)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
        conn.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE id = 3"))
    with pytest.raises(RuntimeError, match=r"audit_event 3: the existing .* chain is broken"):
        upgrade_database(engine)
    assert current_revision(engine) == "0005"
    with engine.connect() as conn:  # nothing half-done: the hashes are still there
        assert (
            conn.execute(text("SELECT count(*) FROM audit_event WHERE hash IS NULL")).scalar() == 0
        )
    engine.dispose()
