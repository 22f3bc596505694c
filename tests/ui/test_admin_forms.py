"""The admin's forms through AppTest: refusals at their fields, audited, nothing stored.

Users: a password reset that enables the account too (users from `office import`
start disabled, without a password), a weak password and a taken username refused
at their fields. Payers: a secret typed where a reference belongs is refused at its
field without being shown again; the stored payer is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from streamlit.testing.v1 import AppTest

from claimdesk.db import make_engine, session_scope
from claimdesk.passwords import verify_password
from models import AuditEvent, Payer, User
from tests.ui.seed import UI_DIR, signed_in

TIMEOUT = 60


@pytest.fixture
def engine(app_env: Any) -> Iterator[Engine]:
    engine = make_engine(app_env)
    yield engine
    engine.dispose()


def page(path: str) -> AppTest:
    at = AppTest.from_file(str(UI_DIR / path), default_timeout=TIMEOUT)
    at.session_state["auth.user"] = signed_in("admin1")
    return at.run()


def by_label(widgets: Any, label: str) -> Any:
    return next(w for w in widgets if w.label == label)


def events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        return list(session.exec(query.order_by(col(AuditEvent.id))).all())


def test_a_password_reset_can_enable_an_imported_user(engine: Engine) -> None:
    with session_scope(engine) as session:  # as `office import` leaves a new user
        session.add(User(username="newbie", role="specialist", password_hash="", active=False))
    at = page("pages/users_page.py")
    by_label(at.selectbox, "User").select("newbie")
    by_label(at.selectbox, "Change").select("password")
    by_label(at.text_input, "New password (for a password reset)").input("a-long-new-pass-9")
    by_label(at.button, "Apply").click().run()
    assert not at.exception
    assert any("the account is enabled" in s.value for s in at.success), at.error
    with Session(engine) as session:
        newbie = session.exec(select(User).where(User.username == "newbie")).one()
    assert newbie.active and verify_password(newbie.password_hash, "a-long-new-pass-9")
    assert [e.actor for e in events(engine, "user.password_reset")] == ["admin1"]
    assert [e.entity_id for e in events(engine, "user.enabled")] == [str(newbie.id)]


def test_bad_values_on_the_users_page_are_refused_at_their_fields(engine: Engine) -> None:
    at = page("pages/users_page.py")
    by_label(at.selectbox, "User").select("spec1")
    by_label(at.selectbox, "Change").select("password")
    by_label(at.text_input, "New password (for a password reset)").input("short")
    by_label(at.button, "Apply").click().run()
    [error] = at.error
    assert error.value.startswith("password:")
    [refused] = events(engine, "user.change_refused")
    assert refused.details == {"change": "password", "target": "spec1", "field": "password"}
    assert "short" not in str(refused.details)

    at = page("pages/users_page.py")
    by_label(at.text_input, "Username").input("spec2")  # taken
    by_label(at.text_input, "Initial password").input("a-long-new-pass-9")
    by_label(at.button, "Add user").click().run()
    assert any("exists already" in e.value for e in at.error)
    [refused] = events(engine, "user.create_refused")
    assert refused.details["field"] == "username" and refused.actor == "admin1"
    with Session(engine) as session:
        assert len(session.exec(select(User).where(User.username == "spec2")).all()) == 1


def test_a_secret_in_a_payers_reference_field_is_refused_and_not_shown(engine: Engine) -> None:
    secret = "sk9Xq2LmT7vB4nR8wZ"
    at = page("pages/admin_payers_page.py")
    by_label(at.text_input, "Password (env variable)").input(secret)
    by_label(at.number_input, "Timely filing (days)").set_value(30)
    by_label(at.button, "Save payer").click().run()
    assert not at.exception
    messages = [e.value for e in at.error]
    assert any("looks like a key or token" in m for m in messages), messages
    assert all(secret not in m for m in messages)
    assert not at.success
    with Session(engine) as session:
        payer = session.exec(select(Payer).where(Payer.name == "Acme Health")).one()
    assert payer.timely_filing_days == 365 and "password_env" not in payer.connectivity
    [refused] = events(engine, "office.edit_refused")
    assert refused.details == {"via": "app", "fields": ["connectivity.password_env"]}


def test_an_appeal_levels_problem_is_named_by_its_line(engine: Engine) -> None:
    at = page("pages/admin_payers_page.py")
    by_label(at.text_area, "Appeal levels").input("1, first, 180, notice\n2, second, 0, decision")
    by_label(at.button, "Save payer").click().run()
    messages = [e.value for e in at.error]
    assert messages == ["line 2: window_days: Input should be greater than 0"], messages
    with Session(engine) as session:
        payer = session.exec(select(Payer).where(Payer.name == "Acme Health")).one()
    assert payer.appeal_levels == []

    by_label(at.text_area, "Appeal levels").input("1, first, 180, notice\n2, second, 60, decision")
    by_label(at.button, "Save payer").click().run()
    assert any("appeal_levels" in s.value for s in at.success), [e.value for e in at.error]
    with Session(engine) as session:
        payer = session.exec(select(Payer).where(Payer.name == "Acme Health")).one()
    assert [level["window_days"] for level in payer.appeal_levels] == [180, 60]
