"""Single sign-on: an identity provider's user is its issuer + subject, nothing else.

An email or preferred username is whatever the provider's user (or its admin) typed:
``sam@attacker.example`` is not the specialist ``sam``. An identity signs in once it
is linked to a user, which happens either by an admin (the Users page, ``claimdesk
users link-sso``) or, on its first sign-in, by an ``email_verified`` address in one
of ``sso_allowed_domains`` whose local part is the username. Any other identity is
kept as waiting (with what the provider said, for the admin to see) and refused.

The browser's sign-in cookie outlives a session (Streamlit keeps it 30 days), so a
new session from it is checked here too: refused once the token is older than the
absolute lifetime, or when the identity's last activity is older than the idle time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.db import session_scope
from claimdesk.errors import ClaimdeskError, NotFound
from claimdesk.settings import Settings
from models import User, UserIdentity, append_audit_event
from models.types import utcnow

# Activity is written at most this often (each click would be a write otherwise).
TOUCH_EVERY = timedelta(minutes=1)


class SsoRefused(ClaimdeskError):
    """The identity provider's user may not sign in (yet)."""


@dataclass(frozen=True)
class IdentityKey:
    issuer: str
    subject: str


def identity_key(claims: dict[str, Any]) -> IdentityKey:
    issuer, subject = str(claims.get("iss") or ""), str(claims.get("sub") or "")
    if not issuer or not subject:
        raise SsoRefused(
            "the identity provider sent no issuer (iss) or subject (sub); claimdesk signs in "
            "OIDC users by those only. Check the provider's configuration."
        )
    return IdentityKey(issuer[:255], subject[:255])


def _verified(claims: dict[str, Any]) -> bool:
    value = claims.get("email_verified")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _identity(session: Session, key: IdentityKey) -> UserIdentity | None:
    return session.exec(
        select(UserIdentity).where(
            UserIdentity.issuer == key.issuer, UserIdentity.subject == key.subject
        )
    ).first()


def _by_verified_email(
    session: Session, claims: dict[str, Any], key: IdentityKey, settings: Settings
) -> User | None:
    """The user a first sign-in may link itself to, or None (then an admin links it)."""
    email = str(claims.get("email") or "").strip().lower()
    local, _, domain = email.rpartition("@")
    if not (local and domain and _verified(claims) and domain in settings.sso_domains):
        return None
    user = session.exec(select(User).where(User.username == local)).first()
    if user is None or not user.active:
        return None
    # A user already linked to another account of this provider needs an admin.
    other = session.exec(
        select(UserIdentity.id).where(
            UserIdentity.user_id == user.id, UserIdentity.issuer == key.issuer
        )
    ).first()
    return None if other is not None else user


def sign_in_identity(engine: Engine, *, claims: dict[str, Any], settings: Settings) -> User:
    """The active user linked to the claims' issuer + subject; audited either way."""
    key = identity_key(claims)
    refusal = ""
    with session_scope(engine) as session:
        identity = _identity(session, key)
        if identity is None:
            identity = UserIdentity(issuer=key.issuer, subject=key.subject)
        identity.email = str(claims.get("email") or "")[:254]
        identity.email_verified = _verified(claims)
        identity.provider_name = str(claims.get("name") or "")[:100]
        user = session.get(User, identity.user_id) if identity.user_id else None
        if identity.user_id is None and (
            found := _by_verified_email(session, claims, key, settings)
        ):
            user = found
            _link(
                session, identity, found, by=f"verified_email:{identity.email.rpartition('@')[2]}"
            )
        session.add(identity)
        session.flush()
        if user is not None and user.active:
            user.last_login_at = identity.last_seen_at = utcnow()
            session.add_all([user, identity])
            append_audit_event(
                session,
                actor=user.username,
                action="user.login",
                entity_type="user",
                entity_id=user.id,
                details={"method": "oidc", "identity_id": identity.id},
            )
            return user
        refusal = "disabled" if user is not None else "unlinked"
        append_audit_event(
            session,
            actor="login:oidc",
            action="user.login_failed",
            entity_type="user_identity",
            entity_id=identity.id,
            details={"method": "oidc", "reason": refusal},
        )
    if refusal == "disabled":
        raise SsoRefused("this single sign-on account's claimdesk user is disabled.")
    raise SsoRefused(
        "this single sign-on account is not linked to a claimdesk user yet; ask an admin to "
        "link it on the Users page (it is listed there as waiting)."
    )


def _link(session: Session, identity: UserIdentity, user: User, *, by: str) -> None:
    identity.user_id, identity.linked_by, identity.linked_at = user.id, by, utcnow()
    session.add(identity)
    session.flush()
    append_audit_event(
        session,
        actor=user.username if by.startswith("verified_email") else by,
        action="user.identity_linked",
        entity_type="user",
        entity_id=user.id,
        details={"identity_id": identity.id, "issuer": identity.issuer},
    )


def link_identity(session: Session, *, identity_id: int, user: User, admin: str) -> None:
    """An admin links a waiting (or moves a linked) identity to ``user``; audited."""
    identity = session.get(UserIdentity, identity_id)
    if identity is None:
        raise NotFound(f"no single sign-on identity {identity_id}")
    _link(session, identity, user, by=admin)


def unlink_identity(session: Session, *, identity_id: int, admin: str) -> bool:
    identity = session.get(UserIdentity, identity_id)
    if identity is None or identity.user_id is None:
        return False
    append_audit_event(
        session,
        actor=admin,
        action="user.identity_unlinked",
        entity_type="user",
        entity_id=identity.user_id,
        details={"identity_id": identity.id, "issuer": identity.issuer},
    )
    identity.user_id, identity.linked_by, identity.linked_at = None, None, None
    session.add(identity)
    return True


@dataclass(frozen=True)
class IdentityRow:
    id: int
    issuer: str
    subject: str
    email: str
    email_verified: bool
    provider_name: str
    username: str | None
    created_at: datetime


def identities(session: Session) -> list[IdentityRow]:
    names = {u.id: u.username for u in session.exec(select(User)).all()}
    rows = session.exec(
        select(UserIdentity).order_by(col(UserIdentity.user_id).is_not(None), col(UserIdentity.id))
    ).all()
    return [
        IdentityRow(
            r.id or 0,
            r.issuer,
            r.subject,
            r.email,
            r.email_verified,
            r.provider_name,
            names.get(r.user_id) if r.user_id else None,
            r.created_at,
        )
        for r in rows
    ]


def cookie_end_reason(
    engine: Engine, *, claims: dict[str, Any], settings: Settings, now: datetime | None = None
) -> str | None:
    """Why a sign-in cookie may not open a new session ("lifetime", "idle"), or None.

    A token issued within the idle time is a fresh sign-in at the provider; an older one
    is a cookie being reused, allowed only while its identity was active within the idle
    time (a reload, a second tab) and the token is younger than the absolute lifetime.
    """
    now = now or utcnow()
    issued = _issued_at(claims)
    if issued is None:
        return "lifetime"  # no iat: its age is unknown, so it cannot be trusted to be young
    age = now - issued
    if age > timedelta(hours=settings.session_max_hours):
        return "lifetime"
    idle = timedelta(minutes=settings.session_idle_minutes)
    if age <= idle:
        return None
    with session_scope(engine) as session:
        identity = _identity(session, identity_key(claims))
        seen = identity.last_seen_at if identity else None
    return None if seen is not None and now - seen <= idle else "idle"


def _issued_at(claims: dict[str, Any]) -> datetime | None:
    value = claims.get("iat")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    return None


def touch_identity(
    engine: Engine, *, claims: dict[str, Any], last: datetime | None, now: datetime | None = None
) -> datetime | None:
    """Record activity on the identity when ``last`` written is older than ``TOUCH_EVERY``."""
    now = now or utcnow()
    if last is not None and now - last < TOUCH_EVERY:
        return last
    with session_scope(engine) as session:
        identity = _identity(session, identity_key(claims))
        if identity is not None:
            identity.last_seen_at = now
            session.add(identity)
    return now
