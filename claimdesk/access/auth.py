"""Who is at the keyboard: password (+ TOTP) and OIDC sign-in, session ends, the user's role.

Password sign-ins are throttled per account name and per address (``throttle``), need
a TOTP code for the roles ``mfa_required_roles`` names or a user who enrolled one
(``totp``); OIDC sign-ins go by issuer + subject only (``sso``). Sign-ins (and failed
attempts) are audited. Every other service loads the user
again by name on each call (``load_active_user``), so a disabled account or a
changed role takes effect on the next click, not at the next sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.access import permissions, throttle, totp
from claimdesk.access.permissions import require
from claimdesk.db import session_scope
from claimdesk.errors import ClaimdeskError, ValidationFailed
from claimdesk.passwords import dummy_hash, verify_password
from claimdesk.settings import Settings, get_settings
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
    """The user behind a session; refused (and audited) when unknown or disabled since."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        permissions.deny(
            user or username[:_MAX_AUDITED_NAME],
            "session.use",
            f"user {username!r} is unknown or disabled; sign in again.",
            session=session,
        )
    return user


class SecondFactorRequired(AuthenticationFailed):
    """The password was right; the TOTP code from the user's authenticator is needed too."""


class EnrolmentRequired(SecondFactorRequired):
    """The role needs a second factor the user has not set up: ``enrolment`` shows it once."""

    def __init__(self, message: str, *, enrolment: totp.Enrolment) -> None:
        super().__init__(message)
        self.enrolment = enrolment


@dataclass(frozen=True)
class _Account:
    id: int
    password_hash: str
    active: bool


def authenticate(
    engine: Engine,
    *,
    username: str,
    password: str,
    address: str = "unknown",
    code: str | None = None,
    settings: Settings | None = None,
) -> SignedInUser:
    """Check a password (and TOTP code) with throttling; the same work and message for any name.

    No transaction is open while argon2 runs (on SQLite a transaction holds the write lock,
    which would stall every writer while a guesser hashes). An unknown name is checked
    against a dummy hash and counted like a known one, so neither the time taken nor a
    lockout tells which names exist.
    """
    settings = settings or get_settings()
    policy = throttle.ThrottlePolicy.from_settings(settings)
    name = username.strip().lower()[:_MAX_AUDITED_NAME]
    address = (address or "unknown")[: throttle.KEY_LENGTH]
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.username == name)).first()
        account = None if user is None else _Account(user.id or 0, user.password_hash, user.active)
        lock = throttle.locked_until(session, name=name, address=address, now=utcnow())
    stored = account.password_hash if account and _usable(account.password_hash) else None
    password_ok = verify_password(stored or dummy_hash(), password) and stored is not None
    ok = password_ok and account is not None and account.active and lock is None
    with session_scope(engine) as session:
        user = session.get(User, account.id) if account else None
        if ok and user is not None:
            if not totp.totp_required(session, user, settings):
                return _signed_in_by_password(session, user, name, mfa=False)
            if not code:
                failure: AuthenticationFailed = _second_factor_needed(session, user, settings)
            elif totp.check_code(session, user, code, settings):
                return _signed_in_by_password(session, user, name, mfa=True)
            else:
                failure = _record_failure(session, user, name, address, "totp", policy, None)
        else:
            reason = _failure_reason(account, password_ok, lock)
            failure = _record_failure(session, user, name, address, reason, policy, lock)
    raise failure


def _usable(password_hash: str) -> bool:
    """An argon2 hash (users from an office import may have none yet)."""
    return password_hash.startswith("$argon2")


def _failure_reason(
    account: _Account | None, password_ok: bool, lock: tuple[str, datetime] | None
) -> str:
    if lock is not None:
        return f"locked:{lock[0]}"
    if account is None:
        return "unknown_user"
    if not account.active:
        return "disabled"
    return "password" if not password_ok else "refused"


def _second_factor_needed(session: Session, user: User, settings: Settings) -> SecondFactorRequired:
    _audit_attempt(session, user, "user.second_factor_asked")
    if totp.is_enrolled(session, user.id or 0):
        return SecondFactorRequired(
            "enter the 6-digit code from your authenticator app to finish signing in."
        )
    enrolment = totp.begin_enrolment(session, user, settings)
    append_audit_event(
        session,
        actor=user.username,
        action="user.totp_enrolment_started",
        entity_type="user",
        entity_id=user.id,
    )
    return EnrolmentRequired(
        f"role {user.role!r} signs in with a second factor: add claimdesk to your "
        "authenticator app (shown once), then enter its 6-digit code.",
        enrolment=enrolment,
    )


def _signed_in_by_password(session: Session, user: User, name: str, *, mfa: bool) -> SignedInUser:
    throttle.record_success(session, name=name)
    user.last_login_at = utcnow()
    session.add(user)
    append_audit_event(
        session,
        actor=user.username,
        action="user.login",
        entity_type="user",
        entity_id=user.id,
        details={"method": "password", "second_factor": mfa},
    )
    return _signed_in(user)


def _audit_attempt(session: Session, user: User, action: str) -> None:
    append_audit_event(
        session,
        actor=user.username,
        action=action,
        entity_type="user",
        entity_id=user.id,
        details={"method": "password"},
    )


def _record_failure(
    session: Session,
    user: User | None,
    name: str,
    address: str,
    reason: str,
    policy: throttle.ThrottlePolicy,
    lock: tuple[str, datetime] | None,
) -> AuthenticationFailed:
    now = utcnow()
    locked = (
        []
        if lock
        else throttle.record_failure(session, name=name, address=address, policy=policy, now=now)
    )
    append_audit_event(
        session,
        actor=f"login:{name}",
        action="user.login_failed",
        entity_type="user",
        entity_id=None if user is None else user.id,
        details={"method": "password", "reason": reason, "address": address},
    )
    for scope in locked:
        append_audit_event(
            session,
            actor=f"login:{name}",
            action="user.locked",
            entity_type="user",
            entity_id=None if user is None else user.id,
            details={"scope": scope, "key": name if scope == throttle.ACCOUNT else address},
        )
    if lock is not None or locked:
        return AuthenticationFailed(
            "too many failed sign-ins for this account or from this address; try again "
            "later or ask an admin to unlock it."
        )
    return AuthenticationFailed(
        "unknown username or wrong password or code (or the account is disabled)."
    )


def authenticate_oidc(
    engine: Engine, *, claims: dict[str, Any], settings: Settings | None = None
) -> SignedInUser:
    """Sign in an identity provider's user by issuer + subject (see ``claimdesk.access.sso``)."""
    from claimdesk.access.sso import sign_in_identity

    user = sign_in_identity(engine, claims=claims, settings=settings or get_settings())
    return _signed_in(user)


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


def session_end_reason(
    signed_in_at: datetime, last_seen: datetime, *, settings: Settings, now: datetime | None = None
) -> str | None:
    """Why a session must end now: "lifetime" (however active), "idle", or None."""
    now = now or utcnow()
    if now - signed_in_at > timedelta(hours=settings.session_max_hours):
        return "lifetime"
    if session_expired(last_seen, idle_minutes=settings.session_idle_minutes, now=now):
        return "idle"
    return None


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
    with session_scope(engine) as session:
        require(load_active_user(session, username), "user.manage")
    try:
        _create_user(engine, username, new_username, role, password, name)
    except ValidationFailed as exc:  # refused for its value: audited too (never the password)
        with session_scope(engine) as session:
            append_audit_event(
                session,
                actor=username[:_MAX_AUDITED_NAME],
                action="user.create_refused",
                entity_type="user",
                details={
                    "username": new_username[:_MAX_AUDITED_NAME],
                    "role": role[:20],
                    "field": exc.field,
                },
            )
        raise


def _create_user(
    engine: Engine, username: str, new_username: str, role: str, password: str, name: str
) -> None:
    from claimdesk.passwords import hash_password
    from models.crud import validated

    try:  # hashed outside any transaction (SQLite's write lock is not held meanwhile)
        password_hash = hash_password(password)
    except ValueError as exc:
        raise ValidationFailed(f"password: {exc}", field="password") from None
    with session_scope(engine) as session:
        admin = load_active_user(session, username)
        require(admin, "user.manage")
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
