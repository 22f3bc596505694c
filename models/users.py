"""People who use claimdesk."""

from __future__ import annotations

from datetime import datetime

from pydantic import field_validator
from sqlmodel import Field, SQLModel, UniqueConstraint

from models._fields import timestamp_field

ROLES = ("specialist", "lead", "manager", "auditor", "admin")


class UserBase(SQLModel):
    username: str = Field(min_length=2, max_length=50, regex=r"^[a-z0-9._-]+$")
    display_name: str = Field(default="", max_length=100)
    role: str = Field(max_length=12)
    active: bool = True

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        return value


class User(UserBase, table=True):
    __table_args__ = (UniqueConstraint("username", name="uq_user_username"),)
    id: int | None = Field(default=None, primary_key=True)
    # argon2id hash (claimdesk.security); never the password.
    password_hash: str = Field(max_length=200)
    created_at: datetime = timestamp_field(default_now=True)
    last_login_at: datetime | None = timestamp_field(nullable=True)
