"""App sessions: a signed cookie opens the server's session until sign-out, idle or lifetime.

The cookie route runs in a real Starlette app (``ui.session_routes``) through its test
client: what the browser gets back is the ``Set-Cookie`` header itself.
"""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from claimdesk.access import sessions
from claimdesk.db import session_scope
from claimdesk.errors import ConfigError
from claimdesk.settings import Settings
from models import User
from models.types import utcnow
from tests.access.conftest import audit_actions
from ui import session_routes


def _cookie(engine: Engine, settings: Settings, username: str = "sam") -> tuple[str, str]:
    started = sessions.start_session(
        engine, username=username, method="password", settings=settings
    )
    assert started is not None
    value, max_age = sessions.cookie_from_handoff(sessions.session_key(settings), started.handoff)
    assert 0 < max_age <= settings.session_max_hours * 3600
    return started.sid, value


def test_a_cookie_reopens_its_session_and_the_reopening_is_audited(
    engine: Engine, settings: Settings
) -> None:
    sid, cookie = _cookie(engine, settings)
    resumed = sessions.resume_from_cookie(engine, cookie=cookie, settings=settings)
    assert resumed.session is not None and resumed.ended is None
    assert resumed.session.user.username == "sam" and resumed.session.user.role == "specialist"
    assert resumed.session.sid == sid and resumed.session.method == "password"
    [event] = audit_actions(engine, "user.session_resumed")
    assert event.actor == "sam" and sid not in str(event.details)


def test_an_altered_or_foreign_cookie_opens_nothing(engine: Engine, settings: Settings) -> None:
    sid, cookie = _cookie(engine, settings)
    _, expires, mac = cookie.split(".")
    other_sid, _ = _cookie(engine, settings, "ann")
    forged = [
        f"{other_sid}.{expires}.{mac}",  # another session's id under this signature
        f"{sid}.{int(expires) + 3600}.{mac}",  # a later end
        f"{sid}.{expires}.{mac[:-2]}AA",
        "",
        "not-a-cookie",
    ]
    for value in forged:
        assert sessions.resume_from_cookie(engine, cookie=value, settings=settings).ended == (
            "invalid"
        ), value
    elsewhere = settings.model_copy(update={"session_secret": SecretStr("k" * 40)})
    assert sessions.resume_from_cookie(engine, cookie=cookie, settings=elsewhere).ended == (
        "invalid"
    )
    started = sessions.start_session(engine, username="sam", method="password", settings=settings)
    assert started is not None  # the page's hand-off token is not a cookie, nor the reverse
    assert sessions.resume_from_cookie(engine, cookie=started.handoff, settings=settings).ended
    with pytest.raises(ValueError, match="unknown, altered or expired"):
        sessions.cookie_from_handoff(sessions.session_key(settings), cookie)


def test_a_hand_off_expires_after_a_minute(engine: Engine, settings: Settings) -> None:
    started = sessions.start_session(engine, username="sam", method="password", settings=settings)
    assert started is not None
    later = utcnow() + timedelta(seconds=sessions.HANDOFF_SECONDS + 1)
    with pytest.raises(ValueError, match="expired"):
        sessions.cookie_from_handoff(sessions.session_key(settings), started.handoff, now=later)


def test_idle_and_lifetime_end_the_session_on_the_server(
    engine: Engine, settings: Settings
) -> None:
    idle_sid, idle_cookie = _cookie(engine, settings)
    later = utcnow() + timedelta(minutes=settings.session_idle_minutes + 1)
    assert sessions.read_session(engine, sid=idle_sid, settings=settings, now=later).ended == "idle"
    # Ended for good: coming back in time does not reopen it.
    assert sessions.resume_from_cookie(engine, cookie=idle_cookie, settings=settings).ended == (
        "idle"
    )
    busy_sid, _ = _cookie(engine, settings, "ann")
    end = utcnow() + timedelta(hours=settings.session_max_hours, minutes=1)
    sessions.touch_session(engine, sid=busy_sid, now=end - timedelta(minutes=1))
    found = sessions.read_session(engine, sid=busy_sid, settings=settings, now=end)
    assert found.ended == "lifetime"
    reasons = {(e.actor, e.details["reason"]) for e in audit_actions(engine, "user.logout")}
    assert reasons == {("sam", "idle"), ("ann", "lifetime")}


def test_activity_in_one_tab_keeps_the_session_open_for_the_others(
    engine: Engine, settings: Settings
) -> None:
    sid, cookie = _cookie(engine, settings)
    soon = utcnow() + timedelta(minutes=settings.session_idle_minutes - 1)
    sessions.touch_session(engine, sid=sid, now=soon)  # the first tab was clicked
    later = soon + timedelta(minutes=settings.session_idle_minutes - 1)
    resumed = sessions.resume_from_cookie(engine, cookie=cookie, settings=settings, now=later)
    assert resumed.session is not None and resumed.session.last_seen_at == soon


def test_sign_out_ends_it_everywhere_and_a_disabled_account_cannot_resume(
    engine: Engine, settings: Settings
) -> None:
    sid, cookie = _cookie(engine, settings)
    sessions.end_session(engine, sid=sid, reason="user")
    assert sessions.read_session(engine, sid=sid, settings=settings).ended == "user"
    assert sessions.resume_from_cookie(engine, cookie=cookie, settings=settings).ended == "user"
    sessions.touch_session(engine, sid=sid)  # a late click in another tab reopens nothing
    assert sessions.read_session(engine, sid=sid, settings=settings).ended == "user"
    _, ann_cookie = _cookie(engine, settings, "ann")
    with session_scope(engine) as session:  # an admin disables ann meanwhile
        ann = session.exec(select(User).where(User.username == "ann")).one()
        ann.active = False
        session.add(ann)
    assert sessions.resume_from_cookie(engine, cookie=ann_cookie, settings=settings).ended == (
        "disabled"
    )
    assert sessions.start_session(engine, username="ann", method="password", settings=settings) is (
        None
    )
    assert sessions.start_session(engine, username="nobody", method="x", settings=settings) is None


def test_the_key_is_a_0600_file_under_the_data_dir_unless_set(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    key = sessions.session_key(settings)
    path = tmp_path / "data" / "session.key"
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sessions.session_key(settings) == key  # read back, not made again
    given = settings.model_copy(update={"session_secret": SecretStr("s" * 40)})
    assert sessions.session_key(given) == b"s" * 40
    with pytest.raises(ConfigError, match="CLAIMDESK_SESSION_SECRET is 5 characters"):
        sessions.session_key(settings.model_copy(update={"session_secret": SecretStr("short")}))


@pytest.fixture
def client(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setattr(session_routes, "_key", lambda: sessions.session_key(settings))
    return TestClient(Starlette(routes=session_routes.routes()), base_url="http://127.0.0.1")


def test_the_route_sets_an_http_only_strict_cookie_once(
    engine: Engine, settings: Settings, client: TestClient
) -> None:
    started = sessions.start_session(engine, username="sam", method="password", settings=settings)
    assert started is not None
    answer = client.post(session_routes.PATH, json={"handoff": started.handoff})
    assert answer.status_code == 200, answer.text
    header = answer.headers["set-cookie"]
    assert header.startswith(f"{sessions.COOKIE_NAME}=") and "HttpOnly" in header
    assert "SameSite=strict" in header and "Secure" not in header  # plain http here
    value = answer.cookies[sessions.COOKIE_NAME]
    assert sessions.resume_from_cookie(engine, cookie=value, settings=settings).session
    again = client.post(session_routes.PATH, json={"handoff": started.handoff})
    assert again.status_code == 403 and "used already" in again.json()["error"]
    assert client.post(session_routes.PATH, json={"handoff": "x.1.y"}).status_code == 403
    assert client.post(session_routes.PATH, content=b"{").status_code == 400


def test_the_route_marks_the_cookie_secure_behind_a_tls_proxy_and_refuses_other_origins(
    engine: Engine, settings: Settings, client: TestClient
) -> None:
    started = sessions.start_session(engine, username="sam", method="password", settings=settings)
    assert started is not None
    foreign = client.post(
        session_routes.PATH,
        json={"handoff": started.handoff},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    # The test client's peer is "testclient", not loopback: a forwarded header is not believed.
    plain = client.post(
        session_routes.PATH,
        json={"handoff": started.handoff},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "Secure" not in plain.headers["set-cookie"]
    tls = TestClient(
        Starlette(routes=session_routes.routes()), base_url="https://claimdesk.clinic.example"
    )
    second = sessions.start_session(engine, username="sam", method="password", settings=settings)
    assert second is not None
    answer = tls.post(session_routes.PATH, json={"handoff": second.handoff})
    assert "Secure" in answer.headers["set-cookie"]


def test_the_route_clears_only_the_ended_session_s_cookie(
    engine: Engine, settings: Settings, client: TestClient
) -> None:
    sid, cookie = _cookie(engine, settings)
    client.cookies.set(sessions.COOKIE_NAME, cookie)
    kept = client.request(
        "DELETE", session_routes.PATH, json={"ended": sessions.session_id_digest("another")}
    )
    assert kept.json() == {"cleared": False} and "set-cookie" not in kept.headers
    cleared = client.request(
        "DELETE", session_routes.PATH, json={"ended": sessions.session_id_digest(sid)}
    )
    assert cleared.json() == {"cleared": True}
    assert 'claimdesk_session=""' in cleared.headers["set-cookie"]
    assert "Max-Age=0" in cleared.headers["set-cookie"]


def test_the_route_answers_under_streamlit_s_base_url_path_too(
    engine: Engine, settings: Settings, client: TestClient
) -> None:
    assert session_routes.path_under("") == session_routes.PATH
    assert session_routes.path_under("/claimdesk/") == "/claimdesk" + session_routes.PATH
    started = sessions.start_session(engine, username="sam", method="password", settings=settings)
    assert started is not None
    answer = client.post(session_routes.path_under("claimdesk"), json={"handoff": started.handoff})
    assert answer.status_code == 200 and "HttpOnly" in answer.headers["set-cookie"]
