"""App sessions kept on the server, so a browser's session cookie can be revoked."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from models._fields import timestamp_field


class AppSession(SQLModel, table=True):
    """One signed-in session of the app, shared by every tab of one browser.

    The browser holds a signed cookie naming the session by a random id; only its
    sha256 is stored, so whoever reads this table cannot present a live cookie. A
    session ends (``ended_at``) on sign-out, after the idle time or at the absolute
    lifetime; an ended session's cookie opens nothing.
    """

    __tablename__ = "app_session"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_app_session_token_hash"),)
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    method: str = Field(max_length=10)  # password or oidc
    started_at: datetime = timestamp_field(default_now=True)
    # Last activity in any tab (written at most once a minute).
    last_seen_at: datetime = timestamp_field(default_now=True)
    ended_at: datetime | None = timestamp_field(nullable=True)
    end_reason: str | None = Field(default=None, max_length=20)
