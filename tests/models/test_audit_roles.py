"""PostgreSQL: audit rows are written through a role that may only INSERT.

Migration 0006 creates ``claimdesk_audit_writer`` (INSERT) and ``claimdesk_audit_sealer``
(SELECT, UPDATE of the seal columns). These tests connect as a login role granted
both, owning nothing, the way a deployment connects the app.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlmodel import Session

from claimdesk.db import make_engine, session_scope
from claimdesk.migrate import upgrade_database
from models import append_audit_event
from models.audit import SEALER_ROLE, WRITER_ROLE, seal_pending, verify_audit_chain
from tests.conftest import PG_ADMIN_URL, _Databases

pytestmark = pytest.mark.postgres
KEY = b"r" * 32


@pytest.fixture(scope="module")
def owner_engine(databases: _Databases) -> Iterator[Engine]:
    engine = make_engine(databases.settings("postgresql"))
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def app_engine(owner_engine: Engine) -> Iterator[Engine]:
    """A login role like the app's: member of the two audit roles, owner of nothing."""
    name = f"claimdesk_test_app_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {name} LOGIN"))
        conn.execute(text(f"GRANT {WRITER_ROLE}, {SEALER_ROLE} TO {name}"))
    url = make_url(owner_engine.url.render_as_string(hide_password=False)).set(username=name)
    engine = create_engine(url)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f"DROP ROLE {name}"))
    admin.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET actor = 'mallory'",
        "UPDATE audit_event SET hash = NULL",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
        "ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change",
        "DROP TRIGGER audit_event_no_change ON audit_event",
        "DROP TABLE audit_event",
    ],
)
@pytest.mark.parametrize("role", [WRITER_ROLE, SEALER_ROLE, "app login"])
def test_audit_roles_cannot_change_delete_or_unguard(
    owner_engine: Engine, app_engine: Engine, role: str, statement: str
) -> None:
    with session_scope(owner_engine) as s:
        append_audit_event(s, actor="alice", action="task.viewed", entity_type="review_task")
    seal_pending(owner_engine, KEY)
    engine = app_engine if role == "app login" else owner_engine
    with engine.connect() as conn:
        if role != "app login":
            conn.execute(text(f"SET ROLE {role}"))
        with pytest.raises(DBAPIError, match=r"permission denied|must be owner|append-only"):
            conn.execute(text(statement))


def test_the_writer_role_may_insert_and_nothing_more(owner_engine: Engine) -> None:
    with owner_engine.connect() as conn:
        conn.execute(text(f"SET ROLE {WRITER_ROLE}"))
        conn.execute(
            text(
                "INSERT INTO audit_event (at, actor, action, entity_type, details)"
                " VALUES (now(), 'alice', 'x', 'claim', '{}') RETURNING id"
            )
        )
        with pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(text("SELECT actor FROM audit_event"))
        conn.rollback()


def test_the_app_login_appends_seals_and_verifies_through_the_roles(
    owner_engine: Engine, app_engine: Engine
) -> None:
    with session_scope(app_engine) as s:
        event = append_audit_event(s, actor="alice", action="task.viewed", entity_type="claim")
    assert seal_pending(app_engine, KEY) >= 1
    with Session(app_engine) as s:
        assert verify_audit_chain(s, KEY) == []
    with owner_engine.connect() as conn:
        sealed = conn.execute(
            text("SELECT seal_seq FROM audit_event WHERE id = :id"), {"id": event.id}
        ).scalar_one()
    assert sealed is not None


def test_appends_go_through_the_writer_role(databases: _Databases) -> None:
    """Take INSERT away from the writer role (in a database of its own): appends fail."""
    engine = make_engine(databases.settings("postgresql"))
    upgrade_database(engine)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"REVOKE INSERT ON audit_event FROM {WRITER_ROLE}"))
        with (
            pytest.raises(DBAPIError, match="permission denied for table audit_event"),
            session_scope(engine) as s,
        ):
            append_audit_event(s, actor="alice", action="x", entity_type="claim")
        # The role never outlives the append: the same session keeps its own rights.
        with session_scope(engine) as s:
            with pytest.raises(DBAPIError), s.begin_nested():
                append_audit_event(s, actor="alice", action="x", entity_type="claim")
            user = s.execute(text("SELECT current_user")).scalar_one()
        assert user == make_url(PG_ADMIN_URL).username
    finally:
        engine.dispose()
