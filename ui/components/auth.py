"""Sign-in, idle timeout and sign-out. Owns the ``auth.*`` session-state keys."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

import streamlit as st
from sqlalchemy.engine import Engine

from claimdesk.access.auth import (
    SignedInUser,
    authenticate,
    authenticate_oidc,
    record_logout,
    session_expired,
)
from claimdesk.errors import ClaimdeskError
from claimdesk.settings import Settings
from models.types import utcnow
from ui.navigation import PAGE_ROLES

USER_KEY = "auth.user"
SEEN_KEY = "auth.last_seen"
NOTICE_KEY = "auth.notice"


def current_user() -> SignedInUser | None:
    data = st.session_state.get(USER_KEY)
    return SignedInUser(**data) if data else None


def sign_in(user: SignedInUser) -> None:
    st.session_state[USER_KEY] = asdict(user)
    st.session_state[SEEN_KEY] = utcnow()


def _sign_out(engine: Engine, reason: str) -> None:
    user = current_user()
    if user is not None:
        record_logout(engine, username=user.username, reason=reason)
    for key in (USER_KEY, SEEN_KEY):
        st.session_state.pop(key, None)


def oidc_configured() -> bool:
    """``st.login`` needs an ``[auth]`` section in ``.streamlit/secrets.toml``."""
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError, ClaimdeskError):
        return False
    except Exception:  # a missing or unreadable secrets file means "not configured"
        return False


def require_login(engine: Engine, settings: Settings) -> SignedInUser:
    """The signed-in user; otherwise the sign-in form and ``st.stop()``."""
    user = current_user()
    last_seen: datetime | None = st.session_state.get(SEEN_KEY)
    if user is not None and last_seen is not None:
        if session_expired(last_seen, idle_minutes=settings.session_idle_minutes):
            _sign_out(engine, "idle")
            st.session_state[NOTICE_KEY] = (
                f"Signed out after {settings.session_idle_minutes} minutes without activity."
            )
            user = None
        else:
            st.session_state[SEEN_KEY] = utcnow()
            return user
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        try:
            found = authenticate_oidc(engine, claims=dict(st.user.to_dict()))
        except ClaimdeskError as exc:
            st.error(str(exc))
        else:
            sign_in(found)
            st.rerun()
    _login_form(engine)
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


def _login_form(engine: Engine) -> None:
    st.title("claimdesk")
    if notice := st.session_state.pop(NOTICE_KEY, None):
        st.info(notice)
    with st.form("auth.login"):
        username = st.text_input("Username", key="auth.username")
        password = st.text_input("Password", type="password", key="auth.password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            user = authenticate(engine, username=username, password=password)
        except ClaimdeskError as exc:
            st.error(str(exc))
        else:
            sign_in(user)
            st.rerun()
    if oidc_configured():
        st.button("Sign in with single sign-on", on_click=st.login)


def logout_button(engine: Engine) -> None:
    if st.button("Sign out", key="auth.logout"):
        _sign_out(engine, "user")
        if oidc_configured() and getattr(st.user, "is_logged_in", False):
            st.logout()
        st.rerun()


def page_user(action: str) -> SignedInUser:
    """The signed-in user if their role may ``action``; otherwise a refusal and ``st.stop()``.

    A convenience for the page; the services check the role again on every call.
    """
    user = current_user()
    if user is None:
        st.error("Sign in first.")
        st.stop()
    assert user is not None
    if user.role not in PAGE_ROLES.get(action, frozenset()):
        st.error(f"Your role ({user.role}) does not give access to this page.")
        st.stop()
    return user


def can(user: SignedInUser, action: str) -> bool:
    return user.role in PAGE_ROLES.get(action, frozenset())
