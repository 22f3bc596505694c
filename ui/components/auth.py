"""Sign-in (password + TOTP, or single sign-on), session ends, sign-out. Owns ``auth.*`` keys."""

from __future__ import annotations

import ipaddress
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine

from claimdesk.access.auth import (
    EnrolmentRequired,
    SecondFactorRequired,
    SignedInUser,
    authenticate,
    authenticate_oidc,
    record_logout,
    session_end_reason,
)
from claimdesk.access.sso import cookie_end_reason, touch_identity
from claimdesk.errors import ClaimdeskError
from claimdesk.settings import Settings
from models.types import utcnow
from ui.components import session_cookie
from ui.components.idle_guard import idle_guard
from ui.navigation import PAGE_ROLES

USER_KEY = "auth.user"
SEEN_KEY = "auth.last_seen"
STARTED_KEY = "auth.signed_in_at"
NOTICE_KEY = "auth.notice"
SSO_KEY = "auth.sso"  # the issuer, subject and iat of a single sign-on session
TOUCHED_KEY = "auth.sso_touched"
CODE_KEY = "auth.code_needed"
ENROL_KEY = "auth.enrolment"  # (otpauth URI, QR SVG), shown until the first code signs in


def current_user() -> SignedInUser | None:
    data = st.session_state.get(USER_KEY)
    return SignedInUser(**data) if data else None


def sign_in(user: SignedInUser, *, sso_claims: dict[str, Any] | None = None) -> None:
    st.session_state[USER_KEY] = asdict(user)
    st.session_state[SEEN_KEY] = st.session_state[STARTED_KEY] = utcnow()
    if sso_claims is not None:
        st.session_state[SSO_KEY] = {k: sso_claims.get(k) for k in ("iss", "sub", "iat")}
    for key in (CODE_KEY, ENROL_KEY, "auth.password", "auth.code"):
        st.session_state.pop(key, None)


def _sign_out(engine: Engine, reason: str) -> None:
    user = current_user()
    if user is not None:
        record_logout(engine, username=user.username, reason=reason)
    session_cookie.end(engine, reason)  # every tab, and the browser's cookie
    for key in (USER_KEY, SEEN_KEY, STARTED_KEY, SSO_KEY, TOUCHED_KEY):
        st.session_state.pop(key, None)


def oidc_configured() -> bool:
    """``st.login`` needs an ``[auth]`` section in ``.streamlit/secrets.toml``."""
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError, ClaimdeskError):
        return False
    except Exception:  # a missing or unreadable secrets file means "not configured"
        return False


def _sso_logged_in() -> bool:
    return oidc_configured() and bool(getattr(st.user, "is_logged_in", False))


def _end_session(engine: Engine, settings: Settings, reason: str) -> None:
    """Sign out for ``reason``; a single sign-on session loses its browser cookie too."""
    sso = SSO_KEY in st.session_state
    _sign_out(engine, reason)
    st.session_state[NOTICE_KEY] = (
        f"Signed out after {settings.session_idle_minutes} minutes without activity."
        if reason == "idle"
        else f"Signed out: a session lasts at most {settings.session_max_hours:g} hours."
    )
    if sso and _sso_logged_in():
        st.logout()  # clears Streamlit's sign-in cookie (and the provider's session)
        st.stop()


def require_login(engine: Engine, settings: Settings) -> SignedInUser:
    """The signed-in user; otherwise the sign-in form and ``st.stop()``.

    A session ends after ``session_idle_minutes`` without a click and, however active,
    ``session_max_hours`` after sign-in (for single sign-on, after the provider's token
    was issued); the page's own idle timer hides patient data before the next click.
    """
    session_cookie.sync(engine, settings)  # a reload or a new tab: the server's session
    user = current_user()
    last_seen: datetime | None = st.session_state.get(SEEN_KEY)
    if user is not None and last_seen is not None:
        started = _session_start(last_seen)
        reason = session_end_reason(started, last_seen, settings=settings)
        if reason is not None:
            _end_session(engine, settings, reason)
            user = None
        else:
            st.session_state[SEEN_KEY] = utcnow()
            session_cookie.keep(engine, settings)
            if sso_claims := st.session_state.get(SSO_KEY):
                st.session_state[TOUCHED_KEY] = touch_identity(
                    engine, claims=sso_claims, last=st.session_state.get(TOUCHED_KEY)
                )
            idle_guard(settings.session_idle_minutes)
            return user
    if _sso_logged_in():
        _sign_in_from_cookie(engine, settings)
    _login_form(engine, settings)
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


def _session_start(last_seen: datetime) -> datetime:
    started: datetime = st.session_state.get(STARTED_KEY) or last_seen
    issued = (st.session_state.get(SSO_KEY) or {}).get("iat")
    if isinstance(issued, int | float):
        started = min(started, datetime.fromtimestamp(issued, tz=UTC))
    return started


def _sign_in_from_cookie(engine: Engine, settings: Settings) -> None:
    """A new session from Streamlit's sign-in cookie: only while it is young and in use."""
    claims = dict(st.user.to_dict())
    try:
        if cookie_end_reason(engine, claims=claims, settings=settings) is not None:
            st.logout()  # an old or idle cookie: sign in at the provider again
            st.stop()
        found = authenticate_oidc(engine, claims=claims, settings=settings)
    except ClaimdeskError as exc:
        st.error(str(exc))
        st.button("Sign out of single sign-on", on_click=st.logout, key="auth.sso_logout")
    else:
        sign_in(found, sso_claims=claims)
        st.rerun()


def _client_address() -> str:
    """The browser's address for throttling; behind a proxy on this machine, the one it saw.

    Only a proxy on loopback is believed, and only the address it appended (the last in
    ``X-Forwarded-For``): anything before that came from the client and may be forged.
    """
    try:
        peer = st.context.ip_address
        forwarded = st.context.headers.get("X-Forwarded-For", "")
    except Exception:  # no request context: counted under one address
        return "unknown"
    if not isinstance(peer, str) or not peer:
        return "unknown"
    if isinstance(forwarded, str) and forwarded.strip() and _is_loopback(peer):
        return forwarded.split(",")[-1].strip() or peer
    return peer


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _login_form(engine: Engine, settings: Settings) -> None:
    st.title("claimdesk")
    if notice := st.session_state.pop(NOTICE_KEY, None):
        st.info(notice)
    if enrolment := st.session_state.get(ENROL_KEY):
        uri, qr_svg = enrolment
        st.warning(
            "Set up your second factor: scan this code with an authenticator app (or enter "
            "the link by hand). It is shown this once; then enter the app's 6-digit code."
        )
        st.image(qr_svg, width=220)
        st.code(uri, language=None)
    with st.form("auth.login"):
        username = st.text_input("Username", key="auth.username")
        password = st.text_input("Password", type="password", key="auth.password")
        code = None
        if st.session_state.get(CODE_KEY):
            code = st.text_input("Code from your authenticator app", key="auth.code")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            user = authenticate(
                engine,
                username=username,
                password=password,
                address=_client_address(),
                code=code or None,
                settings=settings,
            )
        except EnrolmentRequired as exc:
            st.session_state[CODE_KEY] = True
            st.session_state[ENROL_KEY] = (exc.enrolment.uri, exc.enrolment.qr_svg)
            st.rerun()
        except SecondFactorRequired:
            st.session_state[CODE_KEY] = True
            st.rerun()
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
