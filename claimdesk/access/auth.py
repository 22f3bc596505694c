"""Who is at the keyboard: password and OIDC sign-in, idle timeout, and the user's role.

Sign-ins (and failed attempts) are audited. Every other service loads the user
again by name on each call (``load_active_user``), so a disabled account or a
changed role takes effect on the next click, not at the next sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.access.permissions import require
from claimdesk.db import session_scope
from claimdesk.errors import ClaimdeskError, PermissionDenied, ValidationFailed
from claimdesk.passwords import verify_password
from models import User, append_audit_event
from models.types import utcnow

# A username longer than the column cannot exist; cut what goes in the audit trail.
_MAX_AUDITED_NAME = 50


class AuthenticationFailed(ClaimdeskError):
    """Wrong username or password, or an account that is disabled or unknown."""


@dataclass(frozen=True)
class SignedInUser:
    id: int
    username: str
    display_name: str
    role: str


def _signed_in(user: User) -> SignedInUser:
    return SignedInUser(user.id or 0, user.username, user.display_name or user.username, user.role)


def load_active_user(session: Session, username: str) -> User:
    """The user behind a session; refused when unknown or disabled since signing in."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        raise PermissionDenied(f"user {username!r} is unknown or disabled; sign in again.")
    return user


def authenticate(engine: Engine, *, username: str, password: str) -> SignedInUser:
    """Check a password against the stored argon2 hash; the same message for every failure."""
    name = username.strip().lower()
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.username == name)).first()
        ok = user is not None and user.active and verify_password(user.password_hash, password)
        if not ok or user is None:
            append_audit_event(
                session,
                actor=f"login:{name[:_MAX_AUDITED_NAME]}",
                action="user.login_failed",
                entity_type="user",
                entity_id=None if user is None else user.id,
                details={"method": "password"},
            )
        else:
            user.last_login_at = utcnow()
            session.add(user)
            append_audit_event(
                session,
                actor=user.username,
                action="user.login",
                entity_type="user",
                entity_id=user.id,
                details={"method": "password"},
            )
            return _signed_in(user)
    raise AuthenticationFailed("unknown username or wrong password (or the account is disabled).")


def authenticate_oidc(engine: Engine, *, claims: dict[str, Any]) -> SignedInUser:
    """Map an identity provider's user to a claimdesk user (by preferred_username or email)."""
    candidates = [
        str(claims.get("preferred_username") or "").lower(),
        str(claims.get("email") or "").lower(),
        str(claims.get("email") or "").split("@")[0].lower(),
    ]
    with session_scope(engine) as session:
        for name in filter(None, candidates):
            user = session.exec(select(User).where(User.username == name)).first()
            if user is not None and user.active:
                user.last_login_at = utcnow()
                session.add(user)
                append_audit_event(
                    session,
                    actor=user.username,
                    action="user.login",
                    entity_type="user",
                    entity_id=user.id,
                    details={"method": "oidc"},
                )
                return _signed_in(user)
        append_audit_event(
            session,
            actor="login:oidc",
            action="user.login_failed",
            entity_type="user",
            details={"method": "oidc"},
        )
    raise AuthenticationFailed(
        "the identity provider's account has no active claimdesk user; ask an admin to add one."
    )


def record_logout(engine: Engine, *, username: str, reason: str) -> None:
    with session_scope(engine) as session:
        append_audit_event(
            session,
            actor=username,
            action="user.logout",
            entity_type="user",
            details={"reason": reason},
        )


def session_expired(last_seen: datetime, *, idle_minutes: int, now: datetime | None = None) -> bool:
    """True when more than ``idle_minutes`` passed since the user's last action."""
    return (now or utcnow()) - last_seen > timedelta(minutes=idle_minutes)


@dataclass(frozen=True)
class UserRow:
    username: str
    display_name: str
    role: str
    active: bool
    last_login_at: datetime | None


def list_users(engine: Engine, *, username: str) -> list[UserRow]:
    with session_scope(engine) as session:
        require(load_active_user(session, username), "user.manage")
        return [
            UserRow(u.username, u.display_name, u.role, u.active, u.last_login_at)
            for u in session.exec(select(User).order_by(col(User.username)))
        ]


def create_user(
    engine: Engine, *, username: str, new_username: str, role: str, password: str, name: str = ""
) -> None:
    """An admin adds an account (the same checks as ``claimdesk users add``)."""
    from claimdesk.passwords import hash_password
    from models.crud import validated

    with session_scope(engine) as session:
        admin = load_active_user(session, username)
        require(admin, "user.manage")
        try:
            password_hash = hash_password(password)
        except ValueError as exc:
            raise ValidationFailed(f"password: {exc}", field="password") from None
        user = validated(
            User,
            {
                "username": new_username,
                "role": role,
                "display_name": name,
                "password_hash": password_hash,
            },
        )
        if session.exec(select(User.id).where(User.username == new_username)).first():
            raise ValidationFailed(f"username: {new_username!r} exists already", field="username")
        session.add(user)
        session.flush()
        append_audit_event(
            session,
            actor=admin.username,
            action="user.created",
            entity_type="user",
            entity_id=user.id,
            details={"role": role},
        )
