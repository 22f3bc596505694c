"""A committed database per test (SQLite and PostgreSQL) with one user per role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from claimdesk.db import make_engine, session_scope
from claimdesk.migrate import upgrade_database
from claimdesk.passwords import hash_password
from claimdesk.settings import Settings
from models import AuditEvent, User

PASSWORD = "correct-horse-1"
# One argon2 hash for every user: hashing is the slow part of making them.
_HASH = hash_password(PASSWORD)
PEOPLE = {
    "sam": "specialist",
    "ann": "specialist",
    "lou": "lead",
    "lin": "lead",
    "mo": "manager",
    "aud": "auditor",
    "ada": "admin",
    "abe": "admin",
}


@pytest.fixture
def settings(fresh_settings: Settings, tmp_path: Path) -> Settings:
    return fresh_settings.model_copy(
        update={"sso_allowed_domains": "clinic.example", "login_lockout_minutes": 15}
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    upgrade_database(engine)
    with session_scope(engine) as session:
        for name, role in PEOPLE.items():
            session.add(User(username=name, role=role, password_hash=_HASH, display_name=name))
    yield engine
    engine.dispose()


def audit_actions(engine: Engine, action: str) -> list[AuditEvent]:
    with session_scope(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())
