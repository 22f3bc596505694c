"""Failed password sign-ins, counted per account name and per client address.

An account name is counted whether or not such a user exists, so a lockout says
nothing about who has an account. ``login_max_failures`` failures within the window
lock the name for ``login_lockout_minutes`` (0: until an admin unlocks it); an
address is locked the same way after ``login_address_max_failures``, which stops
one machine guessing across many names. A successful sign-in clears the account's
count, never the address's (a valid account must not reset a guesser's budget).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from claimdesk.settings import Settings
from models import LoginThrottle

ACCOUNT = "account"
ADDRESS = "address"
KEY_LENGTH = 64
# "Until an admin unlocks it" is a lock far in the future: one code path for both.
_UNTIL_UNLOCKED = timedelta(days=365 * 100)


@dataclass(frozen=True)
class ThrottlePolicy:
    account_failures: int
    address_failures: int
    window: timedelta
    lockout: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        minutes = settings.login_lockout_minutes
        return cls(
            account_failures=settings.login_max_failures,
            address_failures=settings.login_address_max_failures,
            window=timedelta(minutes=settings.login_failure_window_minutes),
            lockout=timedelta(minutes=minutes) if minutes else _UNTIL_UNLOCKED,
        )

    def limit(self, scope: str) -> int:
        return self.account_failures if scope == ACCOUNT else self.address_failures


def _row(session: Session, scope: str, key: str) -> LoginThrottle | None:
    return session.exec(
        select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key)
    ).first()


def locked_until(
    session: Session, *, name: str, address: str, now: datetime
) -> tuple[str, datetime] | None:
    """The scope locked (account first) and until when, or None."""
    for scope, key in ((ACCOUNT, name), (ADDRESS, address)):
        row = _row(session, scope, key[:KEY_LENGTH])
        if row is not None and row.locked_until is not None and row.locked_until > now:
            return scope, row.locked_until
    return None


def record_failure(
    session: Session, *, name: str, address: str, policy: ThrottlePolicy, now: datetime
) -> list[str]:
    """Count a failure for the name and the address; the scopes it locked just now."""
    newly_locked = []
    for scope, key in ((ACCOUNT, name), (ADDRESS, address)):
        row = _row(session, scope, key[:KEY_LENGTH])
        if row is None:
            row = LoginThrottle(scope=scope, key=key[:KEY_LENGTH], window_started_at=now)
        elif now - row.window_started_at > policy.window and not _locked(row, now):
            row.failures, row.window_started_at = 0, now
        row.failures += 1
        row.updated_at = now
        if row.failures >= policy.limit(scope) and not _locked(row, now):
            row.locked_until = now + policy.lockout
            newly_locked.append(scope)
        session.add(row)
    session.flush()
    return newly_locked


def _locked(row: LoginThrottle, now: datetime) -> bool:
    return row.locked_until is not None and row.locked_until > now


def record_success(session: Session, *, name: str) -> None:
    row = _row(session, ACCOUNT, name[:KEY_LENGTH])
    if row is not None:
        session.delete(row)


def unlock(session: Session, *, scope: str, key: str) -> bool:
    """Clear a lock and its count; False when there was nothing to clear."""
    row = _row(session, scope, key[:KEY_LENGTH])
    if row is None:
        return False
    session.delete(row)
    return True


@dataclass(frozen=True)
class Lock:
    scope: str
    key: str
    failures: int
    locked_until: datetime


def current_locks(session: Session, *, now: datetime) -> list[Lock]:
    rows = session.exec(
        select(LoginThrottle)
        .where(col(LoginThrottle.locked_until) > now)
        .order_by(col(LoginThrottle.scope), col(LoginThrottle.key))
    ).all()
    return [Lock(r.scope, r.key, r.failures, r.locked_until or now) for r in rows]
