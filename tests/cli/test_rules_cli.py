"""`claimdesk rules load` and `claimdesk rules versions` on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimdesk.cli.main import app
from claimdesk.settings import Settings, get_settings
from tests.rules.cms_samples import mue_file

runner = CliRunner()


@pytest.fixture
def cli_env(fresh_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(fresh_settings.data_dir))
    if fresh_settings.database_url is not None:
        monkeypatch.setenv("CLAIMDESK_DATABASE_URL", fresh_settings.database_url.get_secret_value())
    else:
        monkeypatch.delenv("CLAIMDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    yield fresh_settings
    get_settings.cache_clear()


def test_load_an_mue_table_twice_then_list_it(cli_env: Settings, tmp_path: Path) -> None:
    path = tmp_path / "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv"
    path.write_text(
        mue_file(
            "J1100|4|3 Date of Service Edit: Clinical|Prescribing information",
            "G0102|1|2 Date of Service Edit: Policy|CMS policy",
        )
    )
    first = runner.invoke(app, ["rules", "load", "mue", str(path)])
    assert first.exit_code == 0, first.output
    assert "loaded 2 rows from" in first.output
    assert "MUE practitioner 2026-10-01 (dates of service from 2026-10-01)" in first.output
    again = runner.invoke(app, ["rules", "load", "mue", str(path), "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["already_loaded"] is True
    listed = runner.invoke(app, ["rules", "versions", "--json"])
    (version,) = json.loads(listed.output)
    assert (version["kind"], version["version"], version["rows"]) == (
        "mue",
        "MUE practitioner 2026-10-01",
        2,
    )


def test_a_malformed_file_is_refused_by_line_without_a_traceback(
    cli_env: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv"
    path.write_text(mue_file("J1100|4|3 Clinical|x", "G0102|many|2 Policy|x"))
    result = runner.invoke(app, ["rules", "load", "mue", str(path)])
    assert result.exit_code == 2
    assert "line 4: MUE value 'many' is not a whole number" in result.output
    assert "Traceback" not in result.output
    assert "no edit files loaded" in runner.invoke(app, ["rules", "versions"]).output


def test_bad_kind_and_bad_date_are_bad_input(cli_env: Settings, tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("E119    Type 2 diabetes mellitus\n")
    kind = runner.invoke(app, ["rules", "load", "cpt", str(path)])
    assert kind.exit_code == 2 and "no edit file kind 'cpt'" in kind.output
    when = runner.invoke(app, ["rules", "load", "icd10cm", str(path), "--effective", "10/01/26"])
    assert when.exit_code == 2 and "is not a date" in when.output
    missing = runner.invoke(app, ["rules", "load", "icd10cm", str(tmp_path / "none.txt")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    loaded = runner.invoke(app, ["rules", "load", "icd10cm", str(path), "--fiscal-year", "2027"])
    assert loaded.exit_code == 0, loaded.output
    assert "ICD-10-CM FY2027 (dates of service from 2026-10-01 to 2027-09-30)" in loaded.output
