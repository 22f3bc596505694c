"""How people prove who they are: single sign-on identities, sign-in throttles, TOTP secrets."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from models._fields import timestamp_field


class UserIdentity(SQLModel, table=True):
    """An identity provider's account (issuer + subject), linked to a claimdesk user.

    Only ``issuer`` + ``subject`` sign anyone in: an email or a preferred username is
    whatever the provider's user typed and may name someone else. A row without a
    user waits for an admin to link it (what the provider said is kept to show them).
    """

    __tablename__ = "user_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_user_identity_iss_sub"),)
    id: int | None = Field(default=None, primary_key=True)
    issuer: str = Field(max_length=255)
    subject: str = Field(max_length=255)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    email: str = Field(default="", max_length=254)
    email_verified: bool = False
    provider_name: str = Field(default="", max_length=100)
    linked_by: str | None = Field(default=None, max_length=60)
    linked_at: datetime | None = timestamp_field(nullable=True)
    created_at: datetime = timestamp_field(default_now=True)
    # Last activity of a session signed in through this identity (updated at most once a
    # minute): a browser's sign-in cookie opens no session after the idle time.
    last_seen_at: datetime | None = timestamp_field(nullable=True)


class LoginThrottle(SQLModel, table=True):
    """Failed password sign-ins per account name (known or not) and per client address."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_login_throttle_scope_key"),)
    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=10)  # "account" or "address"
    key: str = Field(max_length=64)
    failures: int = 0
    window_started_at: datetime = timestamp_field(default_now=True)
    locked_until: datetime | None = timestamp_field(nullable=True)
    updated_at: datetime = timestamp_field(default_now=True)


class UserTotp(SQLModel, table=True):
    """A user's TOTP secret, encrypted (AES-GCM, key outside the database); never logged."""

    __tablename__ = "user_totp"
    __table_args__ = (UniqueConstraint("user_id", name="uq_user_totp_user"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    secret_encrypted: str = Field(max_length=200)
    # None while enrolment waits for the first code from the user's authenticator.
    confirmed_at: datetime | None = timestamp_field(nullable=True)
    # The newest 30-second step a code was accepted for: a code is never accepted twice.
    last_step: int = 0
    created_at: datetime = timestamp_field(default_now=True)
