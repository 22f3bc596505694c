"""App sessions that survive a reload: a server-side row and a signed, short-lived cookie.

A sign-in starts a row in ``app_session``; the browser gets a cookie naming it by a
random id, signed (HMAC-SHA256) with the session key and carrying the absolute end of
the session, so a forged, altered or expired cookie is refused before the database is
asked. Every tab of the browser shares the row: the idle time counts from the last
activity in any tab, and ending the row (sign-out, idle, lifetime, a disabled account)
ends the session in every tab and makes the cookie worthless.

The cookie itself is set by the app server from a *hand-off* token that lives 60
seconds (``ui/server.py``), so the long-lived value never appears in the page. The key
is ``CLAIMDESK_SESSION_SECRET`` or ``<data_dir>/session.key`` (0600, made on first use);
a new key signs everyone out, nothing worse.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from claimdesk.access.auth import SignedInUser, session_end_reason
from claimdesk.db import session_scope
from claimdesk.errors import ConfigError
from claimdesk.private_files import read_or_create_key
from claimdesk.settings import Settings
from models import AppSession, User, append_audit_event
from models.types import utcnow

COOKIE_NAME = "claimdesk_session"
HANDOFF_SECONDS = 60
# Activity is written at most this often; the idle limit is minutes, so a minute is exact enough.
TOUCH_EVERY = timedelta(minutes=1)
MIN_SECRET_CHARS = 32
_COOKIE, _HANDOFF = "session", "handoff"


def session_key(settings: Settings) -> bytes:
    """The HMAC key cookies are signed with (never stored in the database)."""
    if settings.session_secret is not None:
        secret = settings.session_secret.get_secret_value()
        if len(secret) < MIN_SECRET_CHARS:
            raise ConfigError(
                f"CLAIMDESK_SESSION_SECRET is {len(secret)} characters; use at least "
                f"{MIN_SECRET_CHARS} (for example the output of `python -c 'import secrets; "
                "print(secrets.token_hex(32))'`), or unset it to use <data_dir>/session.key."
            )
        return secret.encode()
    return read_or_create_key(settings.data_dir / "session.key", what="session key")


def _mac(key: bytes, purpose: str, sid: str, expires: int) -> str:
    digest = hmac.new(key, f"{purpose}|{sid}|{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _sign(key: bytes, purpose: str, sid: str, expires: int) -> str:
    return f"{sid}.{expires}.{_mac(key, purpose, sid, expires)}"


def _verify(key: bytes, purpose: str, token: str, now: datetime) -> tuple[str, int] | None:
    """(session id, expiry) of a well-signed, unexpired token; None for anything else."""
    parts = token.strip().split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    sid, expires = parts[0], int(parts[1])
    if not hmac.compare_digest(parts[2], _mac(key, purpose, sid, expires)):
        return None
    if expires <= now.timestamp():
        return None
    return sid, expires


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def cookie_session_id(cookie: str) -> str | None:
    """The session id a cookie names, signed or not (only to compare, never to trust)."""
    sid = cookie.strip().split(".")[0]
    return sid or None


def session_id_digest(sid: str) -> str:
    """A short digest naming a session in the page (never the id itself)."""
    return _hash(f"page|{sid}")[:32]


@dataclass(frozen=True)
class StartedSession:
    sid: str  # the random id; kept in the server's memory of the tab, never logged
    handoff: str  # what the page sends the app server for the cookie (60 s)
    expires_at: datetime  # the absolute end: sign-in + session_max_hours


def start_session(
    engine: Engine, *, username: str, method: str, settings: Settings
) -> StartedSession | None:
    """A new server-side session for a user who has just signed in (None: no such user)."""
    key = session_key(settings)
    sid = secrets.token_urlsafe(24)
    now = utcnow()
    ends = now + timedelta(hours=settings.session_max_hours)
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None or not user.active or user.id is None:
            return None
        row = AppSession(
            token_hash=_hash(sid),
            user_id=user.id,
            method=method[:10],
            started_at=now,
            last_seen_at=now,
        )
        session.add(row)
    handoff_expires = int(min(now + timedelta(seconds=HANDOFF_SECONDS), ends).timestamp())
    # The hand-off carries the session's own end, so the cookie cannot outlive it.
    return StartedSession(
        sid=sid,
        handoff=_sign(key, _HANDOFF, f"{sid}~{int(ends.timestamp())}", handoff_expires),
        expires_at=ends,
    )


def cookie_from_handoff(
    key: bytes, handoff: str, *, now: datetime | None = None
) -> tuple[str, int]:
    """(cookie value, max-age in seconds) for a valid hand-off; ``ValueError`` otherwise."""
    now = now or utcnow()
    found = _verify(key, _HANDOFF, handoff, now)
    if found is None:
        raise ValueError("the hand-off token is unknown, altered or expired")
    sid, _, ends_text = found[0].partition("~")
    if not ends_text.isdigit():
        raise ValueError("the hand-off token names no session end")
    ends = int(ends_text)
    max_age = ends - int(now.timestamp())
    if max_age <= 0:
        raise ValueError("the session has ended")
    return _sign(key, _COOKIE, sid, ends), max_age


@dataclass(frozen=True)
class LiveSession:
    """A session the cookie (or a tab's memory) names, as the server has it now."""

    sid: str
    user: SignedInUser
    method: str
    started_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class Resumed:
    session: LiveSession | None
    ended: str | None = None  # why the cookie opens nothing: idle, lifetime, user, disabled ...


def _live(sid: str, row: AppSession, user: User) -> LiveSession:
    signed = SignedInUser(
        user.id or 0, user.username, user.display_name or user.username, user.role
    )
    return LiveSession(sid, signed, row.method, row.started_at, row.last_seen_at)


def read_session(
    engine: Engine, *, sid: str, settings: Settings, now: datetime | None = None
) -> Resumed:
    """The session ``sid`` if it may go on; an idle, too old or orphaned one is ended here."""
    now = now or utcnow()
    with session_scope(engine) as session:
        row = session.exec(select(AppSession).where(AppSession.token_hash == _hash(sid))).first()
        if row is None:
            return Resumed(None, "unknown")
        if row.ended_at is not None:
            return Resumed(None, row.end_reason or "ended")
        user = session.get(User, row.user_id)
        reason = session_end_reason(row.started_at, row.last_seen_at, settings=settings, now=now)
        if user is None or not user.active:
            reason = "disabled"
        if reason is not None:
            row.ended_at, row.end_reason = now, reason
            session.add(row)
            append_audit_event(
                session,
                actor=user.username if user is not None else f"user:{row.user_id}",
                action="user.logout",
                entity_type="user",
                entity_id=row.user_id,
                details={"reason": reason, "by": "session"},
            )
            return Resumed(None, reason)
        assert user is not None
        return Resumed(_live(sid, row, user))


def resume_from_cookie(
    engine: Engine, *, cookie: str, settings: Settings, now: datetime | None = None
) -> Resumed:
    """A reload or a new tab: the session the browser's cookie names, audited when it opens."""
    now = now or utcnow()
    found = _verify(session_key(settings), _COOKIE, cookie, now)
    if found is None:
        return Resumed(None, "invalid")
    resumed = read_session(engine, sid=found[0], settings=settings, now=now)
    if resumed.session is not None:
        with session_scope(engine) as session:
            append_audit_event(
                session,
                actor=resumed.session.user.username,
                action="user.session_resumed",
                entity_type="user",
                entity_id=resumed.session.user.id,
                details={"method": resumed.session.method},
            )
    return resumed


def touch_session(engine: Engine, *, sid: str, now: datetime | None = None) -> datetime:
    """Record activity now (one UPDATE; an ended session stays ended)."""
    now = now or utcnow()
    with session_scope(engine) as session:
        session.execute(
            update(AppSession)
            .where(col(AppSession.token_hash) == _hash(sid), col(AppSession.ended_at).is_(None))
            .values(last_seen_at=now)
        )
    return now


def end_session(engine: Engine, *, sid: str, reason: str, now: datetime | None = None) -> None:
    """End the session everywhere: every tab, and the cookie (the first reason is kept)."""
    with session_scope(engine) as session:
        session.execute(
            update(AppSession)
            .where(col(AppSession.token_hash) == _hash(sid), col(AppSession.ended_at).is_(None))
            .values(ended_at=now or utcnow(), end_reason=reason[:20])
        )
