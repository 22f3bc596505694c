"""`claimdesk visits import FILE.csv`: the visits in, or the problems named and nothing in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from claimdesk.cli.main import app
from claimdesk.db import make_engine, session_scope
from claimdesk.demo.generate import generate_demo_practice
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings, get_settings
from models import Appointment, Patient, Provider

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


def test_visits_import_adds_each_visit_once_and_refuses_a_bad_file(
    cli_env: Settings, tmp_path: Path
) -> None:
    engine = make_engine(cli_env)
    upgrade_database(engine)
    with session_scope(engine) as session:
        generate_demo_practice(session, claims=3, seed=4, today=date(2026, 11, 2), patients=3)
        accounts = session.exec(select(Patient.account_number)).all()
        npi = session.exec(select(Provider.npi).where(Provider.role == "rendering")).first()
        before = len(session.exec(select(Appointment)).all())
    good = tmp_path / "visits.csv"
    good.write_text(
        "account_number,scheduled_at,provider_npi,reason\n"
        + "".join(
            f"{a},2026-12-0{n + 1} 09:15,{npi},annual visit\n" for n, a in enumerate(accounts)
        )
    )
    result = runner.invoke(app, ["visits", "import", str(good), "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["created"]) == len(accounts)
    again = runner.invoke(app, ["visits", "import", str(good)])
    assert again.exit_code == 0 and f"{len(accounts)} unchanged" in again.output

    bad = tmp_path / "bad.csv"
    bad.write_text(f"account_number,scheduled_at,provider_npi\n{accounts[0]},tomorrow,{npi}\n")
    refused = runner.invoke(app, ["visits", "import", str(bad)])
    assert refused.exit_code == 2  # bad input, as `claimdesk --help` documents
    assert "row 2: scheduled_at: not a date and time" in refused.output
    assert "Traceback" not in refused.output
    with Session(engine) as session:
        assert len(session.exec(select(Appointment)).all()) == before + len(accounts)
    engine.dispose()
