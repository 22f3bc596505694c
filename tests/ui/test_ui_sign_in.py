"""Sign-in in the app: an admin's second factor, the absolute lifetime, the idle timer,
and the admin's account changes (through Streamlit's AppTest)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyotp
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from claimdesk.db import make_engine
from models import AuditEvent, User
from models.types import utcnow
from tests.ui.seed import PASSWORD, UI_DIR, signed_in

TIMEOUT = 60


def _app() -> AppTest:
    return AppTest.from_file(str(UI_DIR / "app.py"), default_timeout=TIMEOUT)


def _submit(at: AppTest, username: str, password: str, code: str | None = None) -> AppTest:
    at.text_input(key="auth.username").input(username)
    at.text_input(key="auth.password").input(password)
    if code is not None:
        at.text_input(key="auth.code").input(code)
    return at.button[0].click().run()


def test_an_admin_enrols_a_second_factor_and_signs_in_with_its_code(app_env: Any) -> None:
    at = _submit(_app().run(), "admin1", PASSWORD)
    assert "auth.user" not in at.session_state  # the password alone is not enough
    assert any("second factor" in w.value for w in at.warning)
    uri, _ = at.session_state["auth.enrolment"]
    assert at.text_input(key="auth.code")
    at = _submit(at, "admin1", PASSWORD, code="000000")  # a wrong code
    assert "auth.user" not in at.session_state
    at = _submit(at, "admin1", PASSWORD, code=pyotp.parse_uri(uri).now())
    assert not at.exception
    assert at.session_state["auth.user"]["username"] == "admin1"
    assert "auth.enrolment" not in at.session_state  # shown once: gone after sign-in


def test_a_session_ends_after_its_absolute_lifetime_however_active(app_env: Any) -> None:
    at = _app()
    at.session_state["auth.user"] = signed_in("spec1")
    at.session_state["auth.last_seen"] = utcnow() - timedelta(minutes=1)  # active
    at.session_state["auth.signed_in_at"] = utcnow() - timedelta(hours=12, minutes=1)
    at.run()
    assert "auth.user" not in at.session_state
    assert "at most 12 hours" in at.info[0].value


def test_a_signed_in_page_installs_the_browser_idle_timer(app_env: Any) -> None:
    at = _app()
    at.session_state["auth.user"] = signed_in("spec1")
    at.session_state["auth.last_seen"] = utcnow()
    at.run()
    scripts = [e.proto.body for e in at.get("html") if "claimdeskIdle" in e.proto.body]
    assert scripts and '"limitMs": 900000' in scripts[0]  # the 15-minute default


def test_an_admin_disables_an_account_on_the_users_page(app_env: Any) -> None:
    at = AppTest.from_file(str(UI_DIR / "pages/users_page.py"), default_timeout=TIMEOUT)
    at.session_state["auth.user"] = signed_in("admin1")
    at.run()
    assert not at.exception
    at.selectbox[0].select("spec2")
    at.selectbox[1].select("disable")
    at.button[0].click().run()
    assert any("'spec2': disabled" in s.value for s in at.success), [e.value for e in at.error]
    engine = make_engine(app_env)
    with Session(engine) as session:
        spec2 = session.exec(select(User).where(User.username == "spec2")).one()
        assert not spec2.active
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.disabled")).one()
        assert event.actor == "admin1" and event.entity_id == str(spec2.id)
    engine.dispose()
