"""Account lifecycle: disable, enable, reset a password, change a role, unlock, reset TOTP.

``apply_change`` does one change in the caller's transaction and audits it, whoever
asks; ``manage_account`` is the admin's gate (the app), ``claimdesk users`` the
operator's (the command line). A new password is hashed before the transaction that
stores it (argon2 must not run while SQLite's write lock is held). The last active
admin cannot be disabled or lose the role, and nobody disables their own account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.access import sso, throttle, totp
from claimdesk.access.auth import load_active_user
from claimdesk.access.permissions import require
from claimdesk.db import session_scope
from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.passwords import hash_password
from claimdesk.settings import Settings
from models import ROLES, User, UserTotp, append_audit_event
from models.types import utcnow

CHANGES = ("disable", "enable", "role", "password", "unlock", "unlock_address", "reset_totp")


@dataclass(frozen=True)
class AccountChange:
    change: str
    role: str | None = None
    password_hash: str | None = field(default=None, repr=False)


def prepare_change(
    change: str, *, role: str | None = None, password: str | None = None
) -> AccountChange:
    """Check the change's values (and hash a new password) before any transaction."""
    if change not in CHANGES:
        raise ValidationFailed(
            f"change: {change!r} is not one of {', '.join(CHANGES)}", field="change"
        )
    if change == "role" and role not in ROLES:
        raise ValidationFailed(f"role: must be one of {', '.join(ROLES)}", field="role")
    password_hash = None
    if change == "password":
        try:
            password_hash = hash_password(password or "")
        except ValueError as exc:
            raise ValidationFailed(f"password: {exc}", field="password") from None
    return AccountChange(change, role, password_hash)


def _target(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user {username!r}; `claimdesk users list` shows them.")
    return user


def _active_admins(session: Session) -> int:
    return len(session.exec(select(User.id).where(User.role == "admin", col(User.active))).all())


def apply_change(session: Session, *, target: str, change: AccountChange, actor: str) -> str:
    """Apply ``change`` to ``target`` (a username, or an address to unlock); what was done."""
    if change.change == "unlock_address":
        cleared = throttle.unlock(session, scope=throttle.ADDRESS, key=target)
        _audit(session, actor, "user.unlocked", None, {"scope": "address", "key": target})
        return f"address {target!r} " + ("unlocked" if cleared else "was not locked")
    if change.change == "unlock":
        # Unknown names are throttled too: unlocking one needs no user row.
        user = session.exec(select(User).where(User.username == target)).first()
        cleared = throttle.unlock(session, scope=throttle.ACCOUNT, key=target)
        _audit(session, actor, "user.unlocked", user, {"scope": "account", "key": target})
        return f"account {target!r} " + ("unlocked" if cleared else "was not locked")
    user = _target(session, target)
    last_admin = user.role == "admin" and user.active and _active_admins(session) == 1
    match change.change:
        case "disable":
            if actor == user.username:
                raise ValidationFailed("user: you cannot disable your own account", field="user")
            if last_admin:
                raise ValidationFailed(
                    f"user: {target!r} is the last active admin; add another admin first",
                    field="user",
                )
            user.active = False
            _audit(session, actor, "user.disabled", user, {})
            done = "disabled"
        case "enable":
            user.active = True
            _audit(session, actor, "user.enabled", user, {})
            done = "enabled"
        case "role":
            assert change.role is not None
            if last_admin and change.role != "admin":
                raise ValidationFailed(
                    f"role: {target!r} is the last active admin; add another admin first",
                    field="role",
                )
            _audit(
                session, actor, "user.role_changed", user, {"from": user.role, "to": change.role}
            )
            user.role = change.role
            done = f"now {change.role}"
        case "password":
            assert change.password_hash is not None
            user.password_hash = change.password_hash
            _audit(session, actor, "user.password_reset", user, {})
            done = "password reset"
        case _:  # reset_totp
            removed = totp.remove(session, user.id or 0)
            _audit(session, actor, "user.totp_reset", user, {"had_one": removed})
            done = "second factor reset: the next password sign-in enrols a new one"
    session.add(user)
    session.flush()
    return f"user {target!r}: {done}"


def _audit(
    session: Session, actor: str, action: str, user: User | None, details: dict[str, object]
) -> None:
    append_audit_event(
        session,
        actor=actor,
        action=action,
        entity_type="user",
        entity_id=None if user is None else user.id,
        details=details,
    )


def manage_account(
    engine: Engine,
    *,
    username: str,
    target: str,
    change: str,
    role: str | None = None,
    password: str | None = None,
) -> str:
    """An admin changes an account (the Users page); refused to every other role."""
    with session_scope(engine) as session:
        require(load_active_user(session, username), "user.manage")
    try:
        prepared = prepare_change(change, role=role, password=password)  # hashed outside
        with session_scope(engine) as session:
            admin = load_active_user(session, username)
            require(admin, "user.manage")
            return apply_change(session, target=target, change=prepared, actor=admin.username)
    except (ValidationFailed, NotFound) as exc:  # refused for its value: audited too
        with session_scope(engine) as session:
            why = {"field": exc.field} if isinstance(exc, ValidationFailed) else {"not_found": True}
            details = {"change": change, "target": target[:60], **why}
            _audit(session, username[:60], "user.change_refused", None, details)
        raise


def manage_identity(engine: Engine, *, username: str, identity_id: int, target: str | None) -> str:
    """An admin links a single sign-on identity to ``target`` (or unlinks it: None)."""
    with session_scope(engine) as session:
        admin = load_active_user(session, username)
        require(admin, "user.manage")
        if target is None:
            done = sso.unlink_identity(session, identity_id=identity_id, admin=admin.username)
            return f"identity {identity_id} " + ("unlinked" if done else "was not linked")
        sso.link_identity(
            session, identity_id=identity_id, user=_target(session, target), admin=admin.username
        )
        return f"identity {identity_id} linked to {target!r}"


@dataclass(frozen=True)
class AccountRow:
    username: str
    display_name: str
    role: str
    active: bool
    second_factor: bool
    last_login_at: datetime | None


@dataclass(frozen=True)
class AccountsView:
    users: list[AccountRow]
    locks: list[throttle.Lock]
    identities: list[sso.IdentityRow]


def read_accounts(engine: Engine, *, username: str) -> AccountsView:
    """Users, current sign-in locks and SSO identities, for the admin page; audited."""
    with session_scope(engine) as session:
        admin = load_active_user(session, username)
        require(admin, "user.manage")
        enrolled = set(
            session.exec(select(UserTotp.user_id).where(col(UserTotp.confirmed_at).is_not(None)))
        )
        users = [
            AccountRow(
                u.username, u.display_name, u.role, u.active, u.id in enrolled, u.last_login_at
            )
            for u in session.exec(select(User).order_by(col(User.username)))
        ]
        view = AccountsView(
            users, throttle.current_locks(session, now=utcnow()), sso.identities(session)
        )
        _audit(session, admin.username, "users.viewed", None, {"count": len(users)})
        return view


def begin_own_totp(engine: Engine, *, username: str, settings: Settings) -> totp.Enrolment:
    """A signed-in user sets up a second factor of their own (optional for most roles)."""
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        enrolment = totp.begin_enrolment(session, user, settings)
        _audit(session, user.username, "user.totp_enrolment_started", user, {})
        return enrolment


def confirm_own_totp(engine: Engine, *, username: str, code: str, settings: Settings) -> bool:
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        ok = totp.check_code(session, user, code, settings)
        _audit(session, user.username, "user.totp_enrolled" if ok else "user.totp_failed", user, {})
        return ok
