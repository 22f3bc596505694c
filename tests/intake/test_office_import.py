"""`claimdesk office import`: the example office, re-imports, updates, refusals, dry runs.

Every test imports into a new, migrated database of each backend (SQLite and
PostgreSQL) through the real engine, so "all or nothing" is the database's word.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from claimdesk.cli.main import app
from claimdesk.db import make_engine
from claimdesk.demo.sim_config import sim_config_from_database
from claimdesk.gateway.payer_config import PayerConfig
from claimdesk.intake.office import OfficeRefused, import_office
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings, get_settings
from models import AuditEvent, FeeSchedule, Payer, Practice, Provider, User
from tests.conftest import sign_in_cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples"
TABLES = (Practice, Provider, Payer, FeeSchedule, User, AuditEvent)
runner = CliRunner()


@pytest.fixture
def engine(fresh_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(fresh_settings)
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def office_dir(tmp_path: Path) -> Path:
    """A copy of the example office (YAML + CSV) that a test may edit."""
    target = tmp_path / "office"
    target.mkdir()
    for name in ("office.yaml", "fee_schedule.csv"):
        shutil.copy(EXAMPLE / name, target / name)
    return target


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            table.__name__: session.exec(select(func.count()).select_from(table)).one()
            for table in TABLES
        }


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the only line of ``path`` containing ``text``."""
    found = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(found) == 1, (text, found)
    return found[0]


def test_the_example_office_comes_in_whole(engine: Engine, fresh_settings: Settings) -> None:
    report = import_office(engine, EXAMPLE / "office.yaml", actor="tester")

    assert counts(engine) == {
        "Practice": 1,
        "Provider": 3,
        "Payer": 3,
        "FeeSchedule": 26,
        "User": 4,
        "AuditEvent": 37,  # one per row created
    }
    assert len(report.changes) == 37 and report.unchanged == 0
    assert report.users_without_password == ["mkeller", "jortiz", "spatel", "dbrooks"]
    with Session(engine) as session:
        practice = session.exec(select(Practice)).one()
        assert (practice.npi, practice.tin, practice.postal_code) == (
            "1588123459",
            "374411020",
            "625264310",
        )
        assert (practice.pay_to_address_line1, practice.pay_to_postal_code) == (
            "PO Box 2261",
            "625242261",
        )
        providers = {p.npi: p for p in session.exec(select(Provider)).all()}
        assert providers["1588123459"].role == "billing"
        assert providers["1386922037"].taxonomy == "363LF0000X"
        assert {p.practice_id for p in providers.values()} == {practice.id}
        payers = {p.payer_id: p for p in session.exec(select(Payer)).all()}
        medicare, acme = payers["SIMMCR"], payers["SIMACM"]
        assert (medicare.kind, medicare.claim_filing_indicator) == ("medicare", "MB")
        assert medicare.accepts_replacement_claims is False
        assert [level["window_days"] for level in medicare.appeal_levels] == [120, 180, 60]
        assert acme.claim_filing_indicator == "CI"  # from its kind
        assert acme.connectivity == {
            "receiver_id": "SIMACM",
            "max_retries": 3,
            "submission_channel": "electronic",
        }
        assert payers["SIMBLU"].status_poll_interval_hours == 72
        # Every payer makes a gateway config (the simulator's endpoint by default).
        for payer in payers.values():
            config = PayerConfig.from_payer(payer, fresh_settings)
            assert config.endpoint == fresh_settings.payer_sim_url
        # A modifier-specific rate and a closed period came from the CSV.
        therapy = session.exec(select(FeeSchedule).where(FeeSchedule.code == "97110")).one()
        assert (therapy.modifier, str(therapy.expected_allowed)) == ("GP", "29.00")
        old = session.exec(
            select(FeeSchedule).where(FeeSchedule.effective_to == date(2025, 12, 31))
        ).one()
        assert (old.code, old.payer_id) == ("99213", medicare.id)
        users = session.exec(select(User)).all()
        assert all(not u.active and u.password_hash == "" for u in users)
        assert {u.username: u.role for u in users}["mkeller"] == "admin"
        # The payer simulator, configured from this database, answers for the three payers.
        sim = sim_config_from_database(session, clock_start=date(2026, 12, 1))
        assert {p["payer_id"] for p in sim["payers"]} == {"SIMMCR", "SIMACM", "SIMBLU"}
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "payer.created")).all()
        assert len(events) == 3 and all(e.actor == "tester" for e in events)
        assert "connectivity" in events[0].details["fields"]


def test_importing_the_same_file_again_changes_nothing(engine: Engine) -> None:
    import_office(engine, EXAMPLE / "office.yaml", actor="tester")
    before = counts(engine)

    again = import_office(engine, EXAMPLE / "office.yaml", actor="tester")

    assert again.changes == [] and again.unchanged == 37
    assert counts(engine) == before  # no row and no audit event added


def test_a_changed_payer_is_updated_in_place_and_audited(engine: Engine, office_dir: Path) -> None:
    yaml_path = office_dir / "office.yaml"
    import_office(engine, yaml_path, actor="tester")
    with Session(engine) as session:
        acme = session.exec(select(Payer).where(Payer.payer_id == "SIMACM")).one()
        acme_id = acme.id
        # A key the file does not own (set elsewhere) must survive the update.
        acme.connectivity = {**acme.connectivity, "scrub_rules": {"required_modifiers": {}}}
        session.add(acme)
        session.commit()
    edit(yaml_path, "    timely_filing_days: 90\n", "    timely_filing_days: 120\n")
    edit(yaml_path, "      # password_file: /run/secrets/acme_password\n",
         "      password_file: /run/secrets/acme_password\n")  # fmt: skip
    before = counts(engine)

    report = import_office(engine, yaml_path, actor="lead.biller")

    assert [(c.entity, c.key, c.action, c.fields) for c in report.changes] == [
        ("payer", "SIMACM", "updated", ("connectivity.password_file", "timely_filing_days"))
    ]
    assert counts(engine) == {**before, "AuditEvent": before["AuditEvent"] + 1}
    with Session(engine) as session:
        acme = session.exec(select(Payer).where(Payer.payer_id == "SIMACM")).one()
        assert acme.id == acme_id and acme.timely_filing_days == 120
        assert acme.connectivity["password_file"] == "/run/secrets/acme_password"
        assert acme.connectivity["scrub_rules"] == {"required_modifiers": {}}
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "payer.updated")).one()
        assert (event.actor, event.entity_id) == ("lead.biller", str(acme_id))
        assert event.details["fields"] == ["connectivity.password_file", "timely_filing_days"]
        # Names of fields only: neither the reference nor the new value is in the trail.
        assert "acme_password" not in json.dumps(event.details)
        assert "120" not in json.dumps(event.details)


def test_a_file_with_errors_is_refused_whole_naming_file_line_and_field(
    engine: Engine, office_dir: Path
) -> None:
    yaml_path, csv_path = office_dir / "office.yaml", office_dir / "fee_schedule.csv"
    edit(yaml_path, '  - npi: "1744012349"', '  - npi: "1744012340"')  # bad check digit
    edit(csv_path, "SIMACM,36415,", "NOPAYR,36415,")  # a payer nobody has
    edit(yaml_path, "      # username: prairiecreek\n", "      password: Tr0ub4dor&3\n")
    edit(yaml_path, "      max_retries: 3\n", "      password_env: hunter2-hunter2\n")

    with pytest.raises(OfficeRefused) as refused:
        import_office(engine, yaml_path, actor="tester", label="office.yaml")

    problems = {(p.file, p.line, p.field) for p in refused.value.problems}
    assert problems == {
        ("office.yaml", line_of(yaml_path, "1744012340"), "providers[1].npi"),
        ("office.yaml", line_of(yaml_path, "password: Tr0ub"), "payers[1].connectivity.password"),
        (
            "office.yaml",
            line_of(yaml_path, "password_env: hunter2"),
            "payers[1].connectivity.password_env",
        ),
        ("fee_schedule.csv", line_of(csv_path, "NOPAYR"), "payer"),
    }
    message = str(refused.value)
    assert f"office.yaml:{line_of(yaml_path, '1744012340')}: providers[1].npi: not a valid NPI" in (
        message
    )
    assert "nothing was imported" in message
    assert "Tr0ub4dor" not in message and "hunter2" not in message  # a secret is never echoed
    assert counts(engine) == dict.fromkeys(("Practice", "Provider", "Payer", "FeeSchedule"), 0) | {
        "User": 0,
        "AuditEvent": 0,
    }


def test_a_refused_update_leaves_the_stored_office_as_it_was(
    engine: Engine, office_dir: Path
) -> None:
    yaml_path = office_dir / "office.yaml"
    import_office(engine, yaml_path, actor="tester")
    before = counts(engine)
    edit(yaml_path, "    timely_filing_days: 90\n", "    timely_filing_days: 120\n")  # good
    edit(yaml_path, "{ username: dbrooks, name: Dana Brooks, role: specialist }",
         "{ username: dbrooks, name: Dana Brooks, role: wizard }")  # fmt: skip

    with pytest.raises(OfficeRefused, match=r"users\[3\]\.role: role must be one of"):
        import_office(engine, yaml_path, actor="tester")

    assert counts(engine) == before
    with Session(engine) as session:
        assert (
            session.exec(select(Payer.timely_filing_days).where(Payer.payer_id == "SIMACM")).one()
            == 90
        )


def test_overlapping_fee_periods_and_duplicates_are_named(engine: Engine, office_dir: Path) -> None:
    yaml_path = office_dir / "office.yaml"
    edit(yaml_path, 'code: "99213", effective_from: 2026-01-01',
         'code: "99203", effective_from: 2026-06-01')  # fmt: skip
    edit(yaml_path, "  - payer_id: SIMBLU\n", "  - payer_id: SIMACM\n")

    with pytest.raises(OfficeRefused) as refused:
        import_office(engine, yaml_path, actor="tester", label="office.yaml")

    messages = [str(p) for p in refused.value.problems]
    first_99203 = line_of(yaml_path, 'code: "99203", effective_from: 2026-01-01')
    assert (
        f"office.yaml:{line_of(yaml_path, '2026-06-01')}: fee_schedules[2].effective_from: "
        f"overlaps the row at office.yaml:{first_99203} (same payer, code and modifier)"
    ) in messages
    text = yaml_path.read_text().splitlines()
    acme = [n for n, line in enumerate(text, 1) if line == "  - payer_id: SIMACM"]
    assert (
        f"office.yaml:{acme[1]}: payers[2]: payer id given twice (first at line {acme[0]})"
    ) in messages
    assert counts(engine)["Payer"] == 0


def test_a_dry_run_stores_nothing(engine: Engine, office_dir: Path) -> None:
    yaml_path = office_dir / "office.yaml"
    report = import_office(engine, yaml_path, actor="tester", dry_run=True)
    assert report.dry_run and len(report.changes) == 37
    assert set(counts(engine).values()) == {0}

    import_office(engine, yaml_path, actor="tester")
    before = counts(engine)
    edit(yaml_path, "    status_poll_interval_hours: 72\n", "    status_poll_interval_hours: 48\n")
    report = import_office(engine, yaml_path, actor="tester", dry_run=True)

    assert [(c.key, c.fields) for c in report.changes] == [
        ("SIMBLU", ("status_poll_interval_hours",))
    ]
    assert counts(engine) == before
    with Session(engine) as session:
        stored = session.exec(
            select(Payer.status_poll_interval_hours).where(Payer.payer_id == "SIMBLU")
        ).one()
        assert stored == 72


def test_secret_files_in_connectivity_are_read_when_the_payer_is_called(
    engine: Engine, office_dir: Path, tmp_path: Path, fresh_settings: Settings
) -> None:
    secret = tmp_path / "acme_password"
    secret.write_text("s3cret-from-a-file\n")
    yaml_path = office_dir / "office.yaml"
    edit(yaml_path, "      # username: prairiecreek\n", "      username: prairiecreek\n")
    edit(yaml_path, "      # password_file: /run/secrets/acme_password\n",
         f"      password_file: {secret}\n")  # fmt: skip
    import_office(engine, yaml_path, actor="tester")

    with Session(engine) as session:
        acme = session.exec(select(Payer).where(Payer.payer_id == "SIMACM")).one()
        credentials = PayerConfig.from_payer(acme, fresh_settings).resolve_credentials()
    assert credentials.username == "prairiecreek"
    assert credentials.password is not None
    assert credentials.password.get_secret_value() == "s3cret-from-a-file"


# --- The CLI ------------------------------------------------------------------------------


@pytest.fixture
def cli_env(
    engine: Engine, fresh_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(fresh_settings.data_dir))
    if fresh_settings.database_url is not None:
        monkeypatch.setenv("CLAIMDESK_DATABASE_URL", fresh_settings.database_url.get_secret_value())
    else:
        monkeypatch.delenv("CLAIMDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield fresh_settings
    get_settings.cache_clear()


def test_cli_import_then_list_payers_and_practices(cli_env: Settings, engine: Engine) -> None:
    example = str(EXAMPLE / "office.yaml")
    dry = runner.invoke(app, ["office", "import", example, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would create payer SIMACM" in dry.output
    assert "37 changes, 0 unchanged (dry run: nothing stored)" in dry.output

    first = runner.invoke(app, ["office", "import", example, "--json"])
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert (data["change_count"], data["dry_run"]) == (37, False)
    assert "claimdesk users set-password" not in first.stdout  # JSON has the list instead
    assert data["users_without_password"] == ["mkeller", "jortiz", "spatel", "dbrooks"]

    again = runner.invoke(app, ["office", "import", example])
    assert again.exit_code == 0 and "0 changes, 37 unchanged" in again.output
    assert "claimdesk users set-password USERNAME" in again.output

    payers = json.loads(runner.invoke(app, ["payers", "list", "--json"]).stdout)
    assert [(p["payer_id"], p["claim_channel"], p["fee_schedule_rows"]) for p in payers] == [
        ("SIMACM", "electronic", 10),
        ("SIMBLU", "electronic", 6),
        ("SIMMCR", "electronic", 10),
    ]
    practices = json.loads(runner.invoke(app, ["practices", "list", "--json"]).stdout)
    assert [p["npi"] for p in practices] == ["1588123459"]
    assert {p["name"] for p in practices[0]["providers"]} == {
        "Prairie Creek Family Medicine",
        "Ana Morales",
        "Thomas Becker",
    }
    text = runner.invoke(app, ["payers", "list"])
    assert text.exit_code == 0 and "3 payer(s)" in text.output


def test_cli_set_password_enables_an_imported_user(cli_env: Settings, engine: Engine) -> None:
    assert runner.invoke(app, ["office", "import", str(EXAMPLE / "office.yaml")]).exit_code == 0
    with Session(engine) as session:
        session.add(User(username="ada", role="admin", password_hash="x"))
        session.commit()
    sign_in_cli(cli_env, "ada")  # an admin sets passwords
    result = runner.invoke(
        app, ["users", "set-password", "spatel", "--password-stdin"], input="correct horse 9\n"
    )
    assert result.exit_code == 0, result.output
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == "spatel")).one()
        assert user.active and user.password_hash.startswith("$argon2id$")
    # The next import keeps the password and the account active; it lists the others only.
    again = runner.invoke(app, ["office", "import", str(EXAMPLE / "office.yaml"), "--json"])
    assert json.loads(again.stdout)["users_without_password"] == ["mkeller", "jortiz", "dbrooks"]


def test_cli_refusal_is_an_error_without_a_traceback(cli_env: Settings, office_dir: Path) -> None:
    yaml_path = office_dir / "office.yaml"
    edit(yaml_path, "    kind: medicare\n", "    kind: medicair\n")
    edit(yaml_path, "      receiver_id: SIMACM\n", "      endpoint: http://edi.acme.example/core\n")
    result = runner.invoke(app, ["office", "import", str(yaml_path)])
    assert result.exit_code == 1
    line = line_of(yaml_path, "kind: medicair")
    assert f"office.yaml:{line}: payers[0].kind: Input should be" in result.stderr
    assert (
        f"office.yaml:{line_of(yaml_path, 'http://edi')}: payers[1].connectivity.endpoint: "
        "must use https"
    ) in result.stderr
    assert "Traceback" not in result.output
    as_json = runner.invoke(app, ["office", "import", str(yaml_path), "--json"])
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["problems"][0]["line"] == line
    missing = runner.invoke(app, ["office", "import", str(office_dir / "nope.yaml")])
    assert missing.exit_code == 1 and "cannot be read (No such file or directory)" in missing.stderr


def test_cli_dry_run_in_a_real_process(fresh_settings: Settings) -> None:
    if fresh_settings.database_url is not None:
        pytest.skip("one real process is enough: it runs on SQLite")
    engine = make_engine(fresh_settings)
    upgrade_database(engine)
    env = {**os.environ, "CLAIMDESK_DATA_DIR": str(fresh_settings.data_dir)}
    env.pop("CLAIMDESK_DATABASE_URL", None)
    claimdesk = str(Path(sys.executable).parent / "claimdesk")  # CI has no `uv` on PATH
    result = subprocess.run(
        [claimdesk, "office", "import", "docs/examples/office.yaml",
         "--dry-run"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "would create practice 1588123459" in result.stdout
    assert "37 changes, 0 unchanged (dry run: nothing stored)" in result.stdout
    assert set(counts(engine).values()) == {0}
    engine.dispose()
