"""`claimdesk users disable | enable | set-role | unlock | reset-totp | identities | link-sso`."""

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

runner = CliRunner()


@pytest.fixture
def cli(engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(settings.data_dir))
    if settings.database_url is not None:
        monkeypatch.setenv("CLAIMDESK_DATABASE_URL", settings.database_url.get_secret_value())
    else:
        monkeypatch.delenv("CLAIMDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
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


def test_the_operator_disables_enables_and_changes_a_role(engine: Engine, cli: Settings) -> None:
    assert "disabled" in _run("disable", "sam")
    assert _active(engine, "sam") == (False, "specialist")
    _run("enable", "sam")
    _run("set-role", "sam", "--role", "lead")
    assert _active(engine, "sam") == (True, "lead")
    [event] = audit_actions(engine, "user.role_changed")
    assert event.actor.startswith("cli:") and event.details == {"from": "specialist", "to": "lead"}
    bad = runner.invoke(app, ["users", "set-role", "sam", "--role", "owner"])
    assert bad.exit_code != 0 and "role: must be one of" in bad.output
    unknown = runner.invoke(app, ["users", "disable", "nobody"])
    assert unknown.exit_code != 0 and "no user 'nobody'" in unknown.output


def test_the_operator_unlocks_an_account_and_resets_a_second_factor(
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


def test_the_operator_links_a_waiting_identity(engine: Engine, cli: Settings) -> None:
    claims = {"iss": "https://idp.example", "sub": "u-1", "email": "lou@elsewhere.example"}
    with pytest.raises(SsoRefused):
        sign_in_identity(engine, claims=claims, settings=cli)
    listed = _run("identities")
    assert "(waiting)" in listed and "lou@elsewhere.example (unverified)" in listed
    identity_id = listed.split()[0]
    assert "signs in as 'lou'" in _run("link-sso", identity_id, "lou")
    assert sign_in_identity(engine, claims=claims, settings=cli).username == "lou"
