"""`claimdesk login`: a short-lived, revocable token (0600) the command line acts by."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from claimdesk.access import accounts, cli_tokens
from claimdesk.access.auth import EnrolmentRequired, authenticate
from claimdesk.cli.main import app
from claimdesk.db import session_scope
from claimdesk.errors import PermissionDenied
from claimdesk.settings import Settings, get_settings
from models.types import utcnow
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
    yield get_settings()
    get_settings.cache_clear()


def _login(name: str, stdin: str) -> tuple[int, str]:
    result = runner.invoke(app, ["login", name, "--password-stdin"], input=stdin)
    return result.exit_code, result.output


def _acting(engine: Engine, settings: Settings) -> str:
    with session_scope(engine) as session:
        return cli_tokens.signed_in_user(session, settings, action="test").username


def test_login_writes_a_private_token_the_commands_act_by(engine: Engine, cli: Settings) -> None:
    with pytest.raises(PermissionDenied, match="claimdesk login"):
        _acting(engine, cli)  # nobody signed in: refused, saying how to sign in
    code, output = _login("sam", f"{PASSWORD}\n")
    assert code == 0 and "signed in as 'sam'" in output
    path = cli_tokens.token_path(cli)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _acting(engine, cli) == "sam"
    status = runner.invoke(app, ["login", "--status"])
    assert "signed in as 'sam' (specialist)" in status.output
    assert runner.invoke(app, ["login", "--logout"]).output.strip() == "signed out"
    with pytest.raises(PermissionDenied):
        _acting(engine, cli)
    assert [e.details["action"] for e in audit_actions(engine, "access.refused")] == [
        "test",
        "test",
    ]


def test_a_wrong_password_writes_no_token(engine: Engine, cli: Settings) -> None:
    code, output = _login("sam", "wrong-password\n")
    assert code == 1 and "wrong password" in output and "Traceback" not in output
    assert not cli_tokens.token_path(cli).exists()


def test_a_token_cannot_be_edited_outlives_nothing_and_is_revoked(
    engine: Engine, cli: Settings
) -> None:
    assert _login("sam", f"{PASSWORD}\n")[0] == 0
    path = cli_tokens.token_path(cli)
    token = json.loads(path.read_text())
    path.write_text(json.dumps({**token, "username": "lou"}))  # become a lead
    with pytest.raises(PermissionDenied, match="revoked or is not valid"):
        _acting(engine, cli)
    later = {**token, "expires_at": (utcnow() + timedelta(days=30)).isoformat()}
    path.write_text(json.dumps(later))  # live longer
    with pytest.raises(PermissionDenied, match="revoked or is not valid"):
        _acting(engine, cli)
    assert _login("sam", f"{PASSWORD}\n")[0] == 0
    accounts.manage_account(
        engine, username="ada", target="sam", change="password", password="another-horse-2"
    )
    with pytest.raises(PermissionDenied, match="revoked"):
        _acting(engine, cli)  # a password reset ends every command-line sign-in
    assert _login("sam", "another-horse-2\n")[0] == 0
    accounts.manage_account(engine, username="ada", target="sam", change="disable")
    with pytest.raises(PermissionDenied, match="disabled"):
        _acting(engine, cli)


def test_an_admin_logs_in_with_a_code(engine: Engine, cli: Settings) -> None:
    with pytest.raises(EnrolmentRequired) as enrol:
        authenticate(engine, username="ada", password=PASSWORD, settings=cli)
    totp = pyotp.parse_uri(enrol.value.enrolment.uri)
    assert isinstance(totp, pyotp.TOTP)
    authenticate(engine, username="ada", password=PASSWORD, code=totp.now(), settings=cli)
    code, output = _login("ada", f"{PASSWORD}\n000000\n")
    assert code == 1 and "wrong password or code" in output
    next_code = totp.at(utcnow() + timedelta(seconds=30))
    code, output = _login("ada", f"{PASSWORD}\n{next_code}\n")
    assert code == 0, output
    assert _acting(engine, cli) == "ada"
