"""A reload or a second tab stays signed in; a link to a page opens after sign-in.

The server keeps each session (``claimdesk.access.sessions``); the browser keeps a
signed cookie naming it, set HttpOnly by the app server (``ui/server.py``) from a
hand-off token this module puts in the page once after sign-in. ``auth.require_login``
calls ``sync`` first (a tab shares the server's session: its idle clock and whether it
was ended elsewhere; a tab without one resumes from the cookie), ``keep`` once the
session checks passed, and ``end`` on sign-out. Owns the ``auth.sid*`` and
``auth.cookie_clear`` keys; the other ``auth.*`` names are ``ui.components.auth``'s
(kept equal by a test; importing it here would be a circle).
"""

from __future__ import annotations

import json
from dataclasses import asdict

import streamlit as st
from sqlalchemy.engine import Engine

from claimdesk.access import sessions
from claimdesk.settings import Settings
from models.types import utcnow
from ui.navigation import ALL_PAGES, BILLING_PAGES
from ui.session_routes import path_under

USER_KEY, SEEN_KEY, STARTED_KEY = "auth.user", "auth.last_seen", "auth.signed_in_at"
NOTICE_KEY, SSO_KEY = "auth.notice", "auth.sso"
SID_KEY = "auth.sid"
TOUCHED_KEY = "auth.sid_touched"
CLEAR_KEY = "auth.cookie_clear"  # the ended session's id: clear the cookie if it names it

_ENDED = {
    "user": "You signed out (in this or another tab).",
    "disabled": "Your account was disabled or changed; sign in again.",
}


def _ended_notice(reason: str | None, settings: Settings) -> str | None:
    if reason == "idle":
        return f"Signed out after {settings.session_idle_minutes} minutes without activity."
    if reason == "lifetime":
        return f"Signed out: a session lasts at most {settings.session_max_hours:g} hours."
    return _ENDED.get(reason or "")


def _forget() -> None:
    for key in (USER_KEY, SEEN_KEY, STARTED_KEY, SSO_KEY, SID_KEY, TOUCHED_KEY):
        st.session_state.pop(key, None)


def _adopt(live: sessions.LiveSession) -> None:
    state = st.session_state
    state[USER_KEY] = asdict(live.user)  # a changed role takes effect in every tab
    state[STARTED_KEY] = live.started_at  # the lifetime counts from the first sign-in
    seen = state.get(SEEN_KEY)
    state[SEEN_KEY] = live.last_seen_at if seen is None else max(seen, live.last_seen_at)
    state[SID_KEY] = live.sid
    state.setdefault(TOUCHED_KEY, live.last_seen_at)


def sync(engine: Engine, settings: Settings) -> None:
    """Before the session checks: this tab's view of the server's session (or the cookie's)."""
    state = st.session_state
    sid = state.get(SID_KEY)
    if state.get(USER_KEY) is not None:
        if sid is None:
            return  # signed in just now: ``keep`` starts the server's session
        found = sessions.read_session(engine, sid=sid, settings=settings)
        if found.session is not None:
            _adopt(found.session)
            return
        _forget()  # ended in another tab, by the idle time or the lifetime
        state[CLEAR_KEY] = sid
        if notice := _ended_notice(found.ended, settings):
            state[NOTICE_KEY] = notice
    else:
        cookie = st.context.cookies.get(sessions.COOKIE_NAME)
        if cookie:
            found = sessions.resume_from_cookie(engine, cookie=cookie, settings=settings)
            if found.session is not None:
                _adopt(found.session)
                return
            state[CLEAR_KEY] = sessions.cookie_session_id(cookie) or ""
            if notice := _ended_notice(found.ended, settings):
                state.setdefault(NOTICE_KEY, notice)
    signed_out_navigation()
    if (ended := state.pop(CLEAR_KEY, None)) is not None:
        # Only the ended session's cookie: a late request must not clear a newer one.
        body = {"ended": sessions.session_id_digest(ended)}
        st.html(_script("DELETE", body), unsafe_allow_javascript=True)


def signed_out_navigation() -> None:
    """While signed out, every page's address shows the sign-in (and keeps its query).

    Without it Streamlit lists the ``pages/`` folder, calls a link to ``/task`` "not
    found" and drops its path; with it the rerun after sign-in is already on that page.
    """
    placeholders = [
        st.Page(_signed_out, title="Sign in", url_path=spec.url_path)
        for spec in (*ALL_PAGES, *BILLING_PAGES)
    ]
    home = st.Page(_signed_out, title="Sign in", url_path="sign-in", default=True)
    st.navigation([home, *placeholders], position="hidden")


def _signed_out() -> None:
    """Never run: the sign-in form is drawn by ``auth`` in the main script."""


def keep(engine: Engine, settings: Settings) -> None:
    """After the checks passed: start (after a sign-in) or touch the server's session."""
    state = st.session_state
    user = state.get(USER_KEY)
    if user is None:
        return
    now = utcnow()
    sid = state.get(SID_KEY)
    if sid is None:
        method = "oidc" if state.get(SSO_KEY) else "password"
        started = sessions.start_session(
            engine, username=str(user["username"]), method=method, settings=settings
        )
        if started is None:
            return
        state[SID_KEY], state[TOUCHED_KEY] = started.sid, now
        st.html(_script("POST", {"handoff": started.handoff}), unsafe_allow_javascript=True)
        return
    touched = state.get(TOUCHED_KEY)
    if touched is None or now - touched >= sessions.TOUCH_EVERY:
        state[TOUCHED_KEY] = sessions.touch_session(engine, sid=sid, now=now)


def end(engine: Engine, reason: str) -> None:
    """Sign-out (or a session's end): every tab and the cookie with it."""
    sid = st.session_state.pop(SID_KEY, None)
    st.session_state.pop(TOUCHED_KEY, None)
    if sid is not None:
        sessions.end_session(engine, sid=sid, reason=reason)
        st.session_state[CLEAR_KEY] = sid
    signed_out_navigation()  # the sign-in form follows in this run (or the next)


def _script(method: str, body: dict[str, str]) -> str:
    """The page asks the app server to set (POST) or clear (DELETE) the HttpOnly cookie."""
    route = path_under(str(st.get_option("server.baseUrlPath") or ""))
    return (
        "<script>(function () {\n"
        f"  fetch({json.dumps(route)}, {{method: {json.dumps(method)}, credentials: "
        "'same-origin', headers: {'Content-Type': 'application/json'}, "
        f"body: {json.dumps(json.dumps(body))}}}).catch(function () {{}});\n"
        "})();</script>"
    )
