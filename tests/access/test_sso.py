"""Single sign-on: identities by issuer + subject; a first sign-in links only a verified email."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from claimdesk.access import accounts
from claimdesk.access.auth import authenticate_oidc
from claimdesk.access.sso import SsoRefused, cookie_end_reason, touch_identity
from claimdesk.db import session_scope
from claimdesk.settings import Settings
from models import UserIdentity
from models.types import utcnow
from tests.access.conftest import audit_actions

ISSUER = "https://idp.clinic.example"


def claims(subject: str, email: str, *, verified: Any = True, **more: Any) -> dict[str, Any]:
    return {
        "iss": ISSUER,
        "sub": subject,
        "email": email,
        "email_verified": verified,
        "iat": int(time.time()),
        **more,
    }


def test_a_look_alike_email_does_not_sign_in_as_the_user(
    engine: Engine, settings: Settings
) -> None:
    """The review's finding: ``sam@attacker.example`` signed in as the specialist ``sam``."""
    for attempt in (
        claims("attacker-1", "sam@attacker.example"),
        claims("attacker-2", "sam@attacker.example", preferred_username="sam"),
        claims("attacker-3", "sam@clinic.example", verified=False),  # not verified
        claims("attacker-4", "sam@clinic.example", verified="false"),
        claims("attacker-5", "sam@clinic.example.attacker.example"),
    ):
        with pytest.raises(SsoRefused, match="not linked"):
            authenticate_oidc(engine, claims=attempt, settings=settings)
    failed = audit_actions(engine, "user.login_failed")
    assert len(failed) == 5 and {e.details["reason"] for e in failed} == {"unlinked"}
    assert audit_actions(engine, "user.login") == []
    with session_scope(engine) as session:
        waiting = session.exec(select(UserIdentity)).all()
        assert len(waiting) == 5 and all(i.user_id is None for i in waiting)


def test_a_verified_email_in_an_allowed_domain_links_once_then_issuer_and_subject_sign_in(
    engine: Engine, settings: Settings
) -> None:
    user = authenticate_oidc(
        engine, claims=claims("idp-42", "Sam@Clinic.Example"), settings=settings
    )
    assert user.username == "sam"
    [linked] = audit_actions(engine, "user.identity_linked")
    assert linked.details["issuer"] == ISSUER
    # Later the email changes at the provider: the subject still signs in as sam ...
    again = authenticate_oidc(
        engine, claims=claims("idp-42", "someone-else@other.example"), settings=settings
    )
    assert again.username == "sam"
    # ... and another subject with sam's verified email does not (sam is linked already).
    with pytest.raises(SsoRefused, match="not linked"):
        authenticate_oidc(engine, claims=claims("idp-99", "sam@clinic.example"), settings=settings)


def test_without_an_allowed_domain_an_admin_links_the_identity(
    engine: Engine, settings: Settings
) -> None:
    strict = settings.model_copy(update={"sso_allowed_domains": ""})
    with pytest.raises(SsoRefused, match="ask an admin"):
        authenticate_oidc(engine, claims=claims("idp-7", "ann@clinic.example"), settings=strict)
    view = accounts.read_accounts(engine, username="ada")
    [waiting] = [i for i in view.identities if i.subject == "idp-7"]
    assert waiting.username is None and waiting.email == "ann@clinic.example"
    done = accounts.manage_identity(engine, username="ada", identity_id=waiting.id, target="ann")
    assert "linked to 'ann'" in done
    user = authenticate_oidc(engine, claims=claims("idp-7", "ann@clinic.example"), settings=strict)
    assert user.username == "ann"
    [event] = audit_actions(engine, "user.identity_linked")
    assert event.actor == "ada"


def test_a_disabled_user_cannot_sign_in_through_a_linked_identity(
    engine: Engine, settings: Settings
) -> None:
    authenticate_oidc(engine, claims=claims("idp-5", "lou@clinic.example"), settings=settings)
    accounts.manage_account(engine, username="ada", target="lou", change="disable")
    with pytest.raises(SsoRefused, match="disabled"):
        authenticate_oidc(engine, claims=claims("idp-5", "lou@clinic.example"), settings=settings)


def test_claims_without_issuer_or_subject_are_refused(engine: Engine, settings: Settings) -> None:
    with pytest.raises(SsoRefused, match="issuer"):
        authenticate_oidc(engine, claims={"email": "sam@clinic.example"}, settings=settings)


def test_the_sign_in_cookie_opens_no_session_when_old_or_idle(
    engine: Engine, settings: Settings
) -> None:
    """Streamlit's cookie lasts 30 days; a new session from it is checked here."""
    fresh = claims("idp-8", "mo@clinic.example")
    authenticate_oidc(engine, claims=fresh, settings=settings)
    assert cookie_end_reason(engine, claims=fresh, settings=settings) is None
    now = utcnow()
    # A token issued 20 minutes ago (older than the 15-minute idle time): reused cookie.
    reused = {**fresh, "iat": int((now - timedelta(minutes=20)).timestamp())}
    touch_identity(engine, claims=reused, last=None, now=now - timedelta(minutes=2))
    assert cookie_end_reason(engine, claims=reused, settings=settings, now=now) is None
    # The identity's last activity is 16 minutes old: idle.
    touch_identity(engine, claims=reused, last=None, now=now - timedelta(minutes=16))
    assert cookie_end_reason(engine, claims=reused, settings=settings, now=now) == "idle"
    # However active, a token older than the absolute lifetime (12 h) is refused.
    old = {**fresh, "iat": int((now - timedelta(hours=12, minutes=1)).timestamp())}
    touch_identity(engine, claims=old, last=None, now=now)
    assert cookie_end_reason(engine, claims=old, settings=settings, now=now) == "lifetime"
    assert cookie_end_reason(engine, claims={**fresh, "iat": None}, settings=settings) == (
        "lifetime"
    )
