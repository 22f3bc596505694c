"""`claimdesk users ...`: an admin's, signed in at the command line; `bootstrap-admin` the
operator's, only while there is no active admin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from claimdesk.access.auth import AuthenticationFailed, EnrolmentRequired, authenticate
from claimdesk.access.sso import SsoRefused, sign_in_identity
from claimdesk.cli.main import app
from claimdesk.db import session_scope
from claimdesk.settings import Settings, get_settings
from models import User
from tests.access.conftest import PASSWORD, audit_actions
from tests.conftest import sign_in_cli

runner = CliRunner()


@pytest.fixture
def cli(engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(settings.data_dir))
    if settings.database_url is not None:
        monkeypatch.setenv("CLAIMDESK_DATABASE_URL", settings.database_url.get_secret_value())
    else:
        monkeypatch.delenv("CLAIMDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    sign_in_cli(settings, "ada")  # an admin
    yield settings
    get_settings.cache_clear()


def _run(*args: str) -> str:
    result = runner.invoke(app, ["users", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _active(engine: Engine, name: str) -> tuple[bool, str]:
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.username == name)).one()
        return user.active, user.role


def test_an_admin_disables_enables_and_changes_a_role(engine: Engine, cli: Settings) -> None:
    assert "disabled" in _run("disable", "sam")
    assert _active(engine, "sam") == (False, "specialist")
    _run("enable", "sam")
    _run("set-role", "sam", "--role", "lead")
    assert _active(engine, "sam") == (True, "lead")
    [event] = audit_actions(engine, "user.role_changed")
    assert event.actor == "ada" and event.details == {"from": "specialist", "to": "lead"}
    bad = runner.invoke(app, ["users", "set-role", "sam", "--role", "owner"])
    assert bad.exit_code != 0 and "role: must be one of" in bad.output
    unknown = runner.invoke(app, ["users", "disable", "nobody"])
    assert unknown.exit_code != 0 and "no user 'nobody'" in unknown.output


def test_an_admin_unlocks_an_account_and_resets_a_second_factor(
    engine: Engine, cli: Settings
) -> None:
    for _ in range(cli.login_max_failures):
        with pytest.raises(AuthenticationFailed):
            authenticate(engine, username="ann", password="wrong-password", settings=cli)
    assert "unlocked" in _run("unlock", "ann")
    assert authenticate(engine, username="ann", password=PASSWORD, settings=cli).username == "ann"
    with pytest.raises(EnrolmentRequired):
        authenticate(engine, username="mo", password=PASSWORD, settings=cli)
    assert "second factor reset" in _run("reset-totp", "mo")
    assert [e.details for e in audit_actions(engine, "user.totp_reset")] == [{"had_one": True}]


def test_an_admin_links_a_waiting_identity(engine: Engine, cli: Settings) -> None:
    claims = {"iss": "https://idp.example", "sub": "u-1", "email": "lou@elsewhere.example"}
    with pytest.raises(SsoRefused):
        sign_in_identity(engine, claims=claims, settings=cli)
    listed = _run("identities")
    assert "(waiting)" in listed and "lou@elsewhere.example (unverified)" in listed
    identity_id = listed.split()[0]
    assert "signs in as 'lou'" in _run("link-sso", identity_id, "lou")
    assert sign_in_identity(engine, claims=claims, settings=cli).username == "lou"


def test_only_a_signed_in_admin_manages_users(engine: Engine, cli: Settings) -> None:
    sign_in_cli(cli, "lou")  # a lead
    added = runner.invoke(
        app, ["users", "add", "eve", "--role", "admin", "--password-stdin"], input=f"{PASSWORD}\n"
    )
    assert added.exit_code == 1 and "may not user.manage" in added.output
    disabled = runner.invoke(app, ["users", "disable", "sam"])
    assert disabled.exit_code == 1 and _active(engine, "sam") == (True, "specialist")
    assert runner.invoke(app, ["login", "--logout"]).exit_code == 0
    anonymous = runner.invoke(app, ["users", "set-password", "sam", "--password-stdin"])
    assert anonymous.exit_code == 1 and "sign in with `claimdesk login`" in anonymous.output
    refused = [(e.actor, e.details["action"]) for e in audit_actions(engine, "access.refused")]
    assert refused == [
        ("lou", "user.manage"),
        ("lou", "user.manage"),
        ("cli:anonymous", "cli:users set-password"),
    ]
    with session_scope(engine) as session:
        assert session.exec(select(User).where(User.username == "eve")).first() is None
    sign_in_cli(cli, "ada")
    assert (
        "added with role lead"
        in runner.invoke(
            app,
            ["users", "add", "eve", "--role", "lead", "--password-stdin"],
            input=f"{PASSWORD}\n",
        ).output
    )
    [created] = [e for e in audit_actions(engine, "user.created") if e.details["role"] == "lead"]
    assert created.actor == "ada"


def test_bootstrap_admin_is_refused_and_audited_once_an_admin_exists(
    engine: Engine, cli: Settings
) -> None:
    before = len(audit_actions(engine, "user.created"))
    done = runner.invoke(
        app, ["users", "bootstrap-admin", "root2", "--password-stdin"], input=f"{PASSWORD}\n"
    )
    assert done.exit_code == 1 and "an admin exists already" in done.output
    assert "Traceback" not in done.output
    [refusal] = audit_actions(engine, "access.refused")
    assert refusal.actor.startswith("os:") and refusal.details["action"] == "user.bootstrap_admin"
    assert len(audit_actions(engine, "user.created")) == before
    with session_scope(engine) as session:
        assert session.exec(select(User).where(User.username == "root2")).first() is None


def test_bootstrap_admin_creates_the_first_admin_only(
    fresh_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claimdesk.db import make_engine
    from claimdesk.migrate import upgrade_database

    engine = make_engine(fresh_settings)
    upgrade_database(engine)
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(fresh_settings.data_dir))
    if fresh_settings.database_url is not None:
        monkeypatch.setenv("CLAIMDESK_DATABASE_URL", fresh_settings.database_url.get_secret_value())
    else:
        monkeypatch.delenv("CLAIMDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        first = runner.invoke(
            app, ["users", "bootstrap-admin", "root", "--password-stdin"], input=f"{PASSWORD}\n"
        )
        assert first.exit_code == 0, first.output
        assert "sign in with `claimdesk login root`" in first.output
        second = runner.invoke(
            app, ["users", "bootstrap-admin", "root2", "--password-stdin"], input=f"{PASSWORD}\n"
        )
        assert second.exit_code == 1 and "an admin exists already" in second.output
        with session_scope(engine) as session:
            admins = session.exec(select(User).where(User.role == "admin")).all()
        assert [(u.username, u.password_hash[:9]) for u in admins] == [("root", "$argon2id")]
        [created] = audit_actions(engine, "user.created")
        assert created.actor.startswith("os:") and created.details["bootstrap"] is True
    finally:
        get_settings.cache_clear()
        engine.dispose()


def test_break_glass_recovers_an_admin_without_a_sign_in_and_says_why(
    engine: Engine, cli: Settings
) -> None:
    assert runner.invoke(app, ["login", "--logout"]).exit_code == 0
    no_reason = runner.invoke(app, ["users", "reset-totp", "ada", "--break-glass", " "])
    assert no_reason.exit_code == 2 and "needs the reason" in no_reason.output
    done = runner.invoke(app, ["users", "reset-totp", "ada", "--break-glass", "lost her phone"])
    assert done.exit_code == 0 and "second factor reset" in done.output
    [glass] = audit_actions(engine, "user.break_glass")
    assert glass.actor.startswith("os:")
    assert glass.details == {
        "command": "users reset-totp",
        "target": "ada",
        "reason": "lost her phone",
    }
    [reset] = audit_actions(engine, "user.totp_reset")
    assert reset.actor == glass.actor
