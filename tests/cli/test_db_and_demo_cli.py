"""`claimdesk db upgrade`, `demo-data`, `users` and `audit verify` on SQLite and PostgreSQL."""

from collections.abc import Iterator

import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from claimdesk.cli.main import app
from claimdesk.db import make_engine
from claimdesk.settings import Settings, get_settings
from models import Claim, Coverage, Patient, User
from tests.conftest import sign_in_cli

runner = CliRunner()


@pytest.fixture
def cli_env(fresh_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(fresh_settings.data_dir))
    if fresh_settings.database_url is not None:
        monkeypatch.setenv("CLAIMDESK_DATABASE_URL", fresh_settings.database_url.get_secret_value())
    else:
        monkeypatch.delenv("CLAIMDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield fresh_settings
    get_settings.cache_clear()


def test_cli_db_upgrade_then_demo_data_500_claims(cli_env: Settings) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "is at revision" in result.output
    result = runner.invoke(app, ["demo-data", "--claims", "500", "--seed", "11"])
    assert result.exit_code == 0, result.output
    assert "500 claims created" in result.output
    engine = make_engine(cli_env)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Claim)).one() == 500
        statuses = set(session.exec(select(Claim.status)).all())
        assert statuses == {"draft"}
        # Believable mix: some coverages ended, some patients have a secondary.
        ended = session.exec(
            select(func.count()).select_from(Coverage).where(Coverage.effective_to.is_not(None))
        ).one()  # type: ignore[union-attr]
        secondary = session.exec(
            select(func.count()).select_from(Coverage).where(Coverage.coverage_order == 2)
        ).one()
        assert ended > 0 and secondary > 0
    engine.dispose()
    # The same seed again adds nothing twice.
    result = runner.invoke(app, ["demo-data", "--claims", "500", "--seed", "11"])
    assert "0 claims created (500 already there)" in result.output
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_demo_data_is_deterministic_for_a_seed(databases, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from claimdesk.db import session_scope
    from claimdesk.demo.generate import generate_demo_practice
    from claimdesk.migrate import upgrade_database

    snapshots = []
    for name in ("a", "b"):
        engine = make_engine(databases.settings("sqlite", tmp_path / name))
        upgrade_database(engine)
        with session_scope(engine) as session:
            generate_demo_practice(
                session, claims=40, seed=5, today=__import__("datetime").date(2026, 11, 1)
            )
            snapshots.append(
                session.exec(
                    select(
                        Patient.last_name,
                        Patient.birth_date,
                        Claim.total_charge,
                        Claim.service_from,
                    )
                    .join(Claim, Claim.patient_id == Patient.id)
                    .order_by(Claim.patient_control_number)
                ).all()
            )
        engine.dispose()
    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0]) == 40


def test_cli_users_add_hashes_password_and_refuses_bad_role(cli_env: Settings) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    first = runner.invoke(
        app, ["users", "bootstrap-admin", "ada", "--password-stdin"], input="correct horse ada\n"
    )
    assert first.exit_code == 0, first.output
    sign_in_cli(cli_env, "ada")  # only a signed-in admin adds users
    ok = runner.invoke(
        app,
        ["users", "add", "sam", "--role", "lead", "--password-stdin"],
        input="correct horse battery\n",
    )
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(
        app,
        ["users", "add", "eve", "--role", "wizard", "--password-stdin"],
        input="correct horse battery\n",
    )
    assert bad.exit_code == 2  # bad input
    assert "role" in bad.output
    engine = make_engine(cli_env)
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == "sam")).one()
        assert user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash
    engine.dispose()


def test_cli_db_upgrade_unreachable_database_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(
        "CLAIMDESK_DATABASE_URL",
        "postgresql+psycopg://nobody@127.0.0.1:1/nowhere?connect_timeout=2",
    )
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["db", "upgrade"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "could not be upgraded" in result.output
    assert "Traceback" not in result.output
