"""Password sign-ins: throttling and lockout, timing parity, no lock while hashing, TOTP."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from claimdesk.access import accounts, auth
from claimdesk.access.auth import (
    AuthenticationFailed,
    EnrolmentRequired,
    SecondFactorRequired,
    authenticate,
)
from claimdesk.db import make_engine
from claimdesk.errors import PermissionDenied
from claimdesk.settings import Settings
from models.types import utcnow
from tests.access.conftest import PASSWORD, audit_actions


def sign_in(engine: Engine, settings: Settings, name: str, password: str, **kw: Any) -> Any:
    return authenticate(engine, username=name, password=password, settings=settings, **kw)


def test_lockout_after_n_failures_and_unlock_by_an_admin(
    engine: Engine, settings: Settings
) -> None:
    for _ in range(settings.login_max_failures):
        with pytest.raises(AuthenticationFailed):
            sign_in(engine, settings, "sam", "wrong-password", address="10.0.0.1")
    # The right password no longer works (it did on main after 30 wrong ones).
    with pytest.raises(AuthenticationFailed, match="too many failed sign-ins"):
        sign_in(engine, settings, "sam", PASSWORD, address="10.0.0.2")
    [locked] = audit_actions(engine, "user.locked")
    assert locked.details == {"scope": "account", "key": "sam"}
    # Only an admin unlocks (a specialist is refused), and it is audited.
    with pytest.raises(PermissionDenied):
        accounts.manage_account(engine, username="ann", target="sam", change="unlock")
    assert "unlocked" in accounts.manage_account(
        engine, username="ada", target="sam", change="unlock"
    )
    assert sign_in(engine, settings, "sam", PASSWORD, address="10.0.0.2").username == "sam"
    [unlocked] = audit_actions(engine, "user.unlocked")
    assert unlocked.actor == "ada" and unlocked.details["key"] == "sam"
    failures = audit_actions(engine, "user.login_failed")
    assert [e.details["reason"] for e in failures] == ["password"] * 5 + ["locked:account"]


def test_an_unknown_name_locks_like_a_known_one(engine: Engine, settings: Settings) -> None:
    """A lockout must not tell which names exist."""
    answers = {}
    for name in ("sam", "nobody-here"):
        answers[name] = []
        for _ in range(settings.login_max_failures + 1):
            with pytest.raises(AuthenticationFailed) as caught:
                sign_in(engine, settings, name, "wrong-password", address=f"10.1.0.{len(name)}")
            answers[name].append(str(caught.value))
    assert answers["sam"] == answers["nobody-here"]
    assert "wrong password" in answers["sam"][0] and "too many" in answers["sam"][-1]
    assert len(audit_actions(engine, "user.locked")) == 2


def test_one_address_guessing_many_names_is_locked(engine: Engine, settings: Settings) -> None:
    tight = settings.model_copy(update={"login_address_max_failures": 3})
    for name in ("sam", "ann", "lou"):
        with pytest.raises(AuthenticationFailed):
            sign_in(engine, tight, name, "wrong-password", address="192.0.2.9")
    with pytest.raises(AuthenticationFailed, match="too many"):
        sign_in(engine, tight, "lin", PASSWORD, address="192.0.2.9")
    assert sign_in(engine, tight, "lin", PASSWORD, address="192.0.2.10").username == "lin"


def _median_seconds(call: Callable[[], object], tries: int = 7) -> float:
    times = []
    for _ in range(tries):
        start = time.perf_counter()
        with pytest.raises(AuthenticationFailed):
            call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def test_an_unknown_user_takes_as_long_as_a_known_one(engine: Engine, settings: Settings) -> None:
    """On main an unknown name answered in ~1 ms and a known one in ~100 ms."""
    roomy = settings.model_copy(
        update={"login_max_failures": 100, "login_address_max_failures": 100}
    )
    sign_in(engine, roomy, "ann", PASSWORD)  # warm: the dummy hash, the connection pool

    def known() -> object:
        return sign_in(engine, roomy, "sam", "wrong-password")

    def unknown() -> object:
        return sign_in(engine, roomy, "no-such-user", "wrong-password")

    _median_seconds(unknown, tries=1)
    # Interleaved, so a burst of load on a shared machine slows both sides alike; the
    # leak this guards against is a factor of 100, so a factor of 2 still catches it.
    known_times, unknown_times = [], []
    for _ in range(7):
        known_times.append(_median_seconds(known, tries=1))
        unknown_times.append(_median_seconds(unknown, tries=1))
    known_s, unknown_s = statistics.median(known_times), statistics.median(unknown_times)
    ratio = max(known_s, unknown_s) / min(known_s, unknown_s)
    assert ratio < 2, f"known {known_s * 1000:.1f} ms, unknown {unknown_s * 1000:.1f} ms"
    assert unknown_s > 0.01  # argon2 ran for the unknown name too


def test_no_database_lock_is_held_while_the_password_is_hashed(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a transaction holds the write lock: another writer must get through."""
    other = make_engine(settings)
    wrote: list[bool] = []
    real_verify = auth.verify_password

    def verify_while_someone_writes(password_hash: str, password: str) -> bool:
        with other.connect() as connection:
            if other.dialect.name == "sqlite":
                connection.connection.dbapi_connection.execute(  # type: ignore[union-attr]
                    "PRAGMA busy_timeout=200"
                )
            connection.execute(text("UPDATE \"user\" SET display_name = 'x' WHERE 1 = 0"))
            connection.commit()
            wrote.append(True)
        return real_verify(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", verify_while_someone_writes)
    assert sign_in(engine, settings, "sam", PASSWORD).username == "sam"
    assert wrote == [True]
    other.dispose()


def _code(secret_uri: str, *, offset_s: int = 0) -> str:
    totp = pyotp.parse_uri(secret_uri)
    assert isinstance(totp, pyotp.TOTP)
    return totp.at(utcnow() + timedelta(seconds=offset_s))


def test_an_admin_needs_a_second_factor(engine: Engine, settings: Settings) -> None:
    # The password alone does not sign an admin in: enrolment is shown (once) instead.
    with pytest.raises(EnrolmentRequired) as enrol:
        sign_in(engine, settings, "ada", PASSWORD)
    enrolment = enrol.value.enrolment
    assert enrolment.uri.startswith("otpauth://totp/claimdesk:ada?")
    assert "secret=" not in str(enrol.value) and "secret=" not in repr(enrolment)
    assert enrolment.qr_svg.startswith("<svg")
    with pytest.raises(AuthenticationFailed, match="wrong password or code"):
        sign_in(engine, settings, "ada", PASSWORD, code="000000")
    code = _code(enrolment.uri)
    user = sign_in(engine, settings, "ada", PASSWORD, code=code)
    assert user.role == "admin"
    [login] = audit_actions(engine, "user.login")
    assert login.details == {"method": "password", "second_factor": True}
    # Enrolled: the code is asked for, a used code is not accepted twice, a new one is.
    with pytest.raises(SecondFactorRequired) as asked:
        sign_in(engine, settings, "ada", PASSWORD)
    assert not isinstance(asked.value, EnrolmentRequired)
    with pytest.raises(AuthenticationFailed):
        sign_in(engine, settings, "ada", PASSWORD, code=code)
    assert sign_in(engine, settings, "ada", PASSWORD, code=_code(enrolment.uri, offset_s=30))
    # The secret is stored encrypted: the database never holds it in clear.
    secret = pyotp.parse_uri(enrolment.uri).secret
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT secret_encrypted FROM user_totp")).scalar_one()
    assert secret not in stored


def test_a_specialist_signs_in_without_a_code_unless_the_policy_says_so(
    engine: Engine, settings: Settings
) -> None:
    assert sign_in(engine, settings, "sam", PASSWORD).username == "sam"
    strict = settings.model_copy(update={"mfa_required_roles": "admin,manager,specialist"})
    with pytest.raises(EnrolmentRequired):
        sign_in(engine, strict, "sam", PASSWORD)


def test_a_wrong_password_never_reveals_whether_a_code_is_needed(
    engine: Engine, settings: Settings
) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        sign_in(engine, settings, "ada", "wrong-password")
    assert not isinstance(caught.value, SecondFactorRequired)


def test_account_lifecycle_by_an_admin_is_audited(engine: Engine, settings: Settings) -> None:
    def change(target: str, what: str, **kw: Any) -> str:
        return accounts.manage_account(engine, username="ada", target=target, change=what, **kw)

    assert "disabled" in change("sam", "disable")
    with pytest.raises(AuthenticationFailed):
        sign_in(engine, settings, "sam", PASSWORD)
    with pytest.raises(PermissionDenied):
        auth.list_users(engine, username="sam")  # a disabled user's next click is refused
    change("sam", "enable")
    change("sam", "password", password="new-horse-battery")
    assert sign_in(engine, settings, "sam", "new-horse-battery").username == "sam"
    change("sam", "role", role="lead")
    assert sign_in(engine, settings, "sam", "new-horse-battery").role == "lead"
    with pytest.raises(Exception, match="cannot disable your own"):
        change("ada", "disable")
    change("abe", "disable")
    with pytest.raises(Exception, match="last active admin"):
        accounts.manage_account(engine, username="ada", target="ada", change="role", role="lead")
    actions = [
        e.action
        for e in audit_actions(engine, "user.disabled")
        + audit_actions(engine, "user.enabled")
        + audit_actions(engine, "user.password_reset")
        + audit_actions(engine, "user.role_changed")
    ]
    assert sorted(actions) == sorted(
        [
            "user.disabled",
            "user.disabled",
            "user.enabled",
            "user.password_reset",
            "user.role_changed",
        ]
    )
    with pytest.raises(PermissionDenied):
        accounts.manage_account(engine, username="lou", target="sam", change="disable")
