"""The shipped code sets: sizes, words, dates, provenance, and `claimdesk codes`."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest
import typer
from typer.testing import CliRunner

from claimdesk.codes import loader, meanings
from claimdesk.errors import ConfigError

# Floors measured on the shipped files (2026-12): a list that shrinks below its floor
# lost codes in a rebuild.
FLOORS = {
    "carc": 400,
    "rarc": 1000,
    "cscc": 45,
    "csc": 750,
    "cas_group": 5,
    "ik3": 13,
    "ik4": 18,
    "pos": 50,
    "claim_frequency": 20,
    "entity": 60,
}
# Lists whose every code carries words; csc carries values for all, words for some.
WORDED = [name for name in FLOORS if name != "csc"]


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_list_is_at_least_its_measured_size(name: str) -> None:
    assert len(loader.load(name)) >= FLOORS[name]


@pytest.mark.parametrize("name", WORDED)
def test_every_active_code_has_words(name: str) -> None:
    code_list = loader.load(name)
    wordless = [c.code for c in code_list if c.active and not c.text]
    assert wordless == []


def test_csc_words_cover_the_codes_payers_send_most() -> None:
    csc = loader.load("csc")
    worded = {c.code for c in csc if c.text}
    assert len(worded) >= 100
    assert {"0", "1", "3", "19", "20", "21", "65", "88", "107"} <= worded


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_source_version_and_licence_are_recorded(name: str) -> None:
    code_list = loader.load(name)
    assert code_list.name == name
    assert code_list.version and code_list.licence and code_list.complete
    assert "github.com/" in code_list.source or "pyx12" in code_list.source


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_dates_parse_and_are_in_order(name: str) -> None:
    for code in loader.load(name):
        for day in (code.effective, code.retired):
            assert day is None or isinstance(day, date)
        if code.effective and code.retired:
            assert code.effective <= code.retired, code.code


def test_carc_dates_and_status_come_from_the_sources() -> None:
    carc = loader.load("carc")
    deductible = carc.get("1")
    assert deductible is not None and deductible.effective == date(1995, 1, 1)
    assert deductible.active_on(date(2026, 12, 1))
    stop_loss = carc.get("25")  # retired 2008-04-01
    assert stop_loss is not None and stop_loss.retired == date(2008, 4, 1)
    assert not stop_loss.active and not stop_loss.active_on(date(2026, 1, 1))
    assert stop_loss.active_on(date(2000, 1, 1))
    assert sum(1 for c in carc if not c.active) >= 100  # the retired codes stay, marked


def test_every_carc_has_a_routing_class() -> None:
    from claimdesk.denials.routing import CARC_CLASSES

    assert {c.code_class for c in loader.load("carc")} <= set(CARC_CLASSES)
    assert all(c.code_class for c in loader.load("carc"))


def test_cpt_text_is_not_shipped() -> None:
    assert "cpt" not in loader.LISTS  # CPT wording is licensed by the AMA


def test_lookup_normalises_and_misses_cleanly() -> None:
    assert loader.lookup("rarc", " n290 ") is not None
    assert loader.lookup("carc", "Z99") is None
    with pytest.raises(loader.UnknownCodeList, match="no code list 'cpt'"):
        loader.load("cpt")


def test_a_bad_row_names_the_file_and_line() -> None:
    text = (
        "# list: x\n# version: 1\n# source: s\n# licence: l\ncode,text,effective\n1,a,2020-13-01\n"
    )
    with pytest.raises(ConfigError, match=r"x\.csv line 6: '2020-13-01' is not a date"):
        loader.parse_code_list(text, source="x.csv")
    with pytest.raises(ConfigError, match="metadata licence missing"):
        loader.parse_code_list("# list: x\n# version: 1\n# source: s\ncode,text\n", source="x")


def test_meanings_read_the_code_sets() -> None:
    assert "negotiated discount" in meanings.carc_meaning("131").lower()
    assert "rendering provider" in meanings.rarc_meaning("N290").lower()
    assert meanings.stc_meaning("A7:21").startswith("Acknowledgement/Rejected for invalid")
    assert meanings.carc_meaning("Z99") == meanings.UNKNOWN


def _cli_app() -> typer.Typer:
    from claimdesk.cli.main import app

    return app


def test_codes_carc_131_prints_words_dates_class_and_route() -> None:
    result = CliRunner().invoke(_cli_app(), ["codes", "carc", "131"])
    assert result.exit_code == 0, result.output
    assert "CARC 131: Claim specific negotiated discount." in result.output
    assert "effective: 1997-02-28" in result.output
    assert "class: contractual" in result.output
    assert "route CO-131: contractual, queue none, action none" in result.output


def test_codes_json_and_errors() -> None:
    runner = CliRunner()
    result = runner.invoke(_cli_app(), ["codes", "carc", "27", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["class"] == "eligibility_coverage"
    assert (data["routes"]["PR"]["queue"], data["routes"]["PR"]["action"]) == (
        "eligibility",
        "bill_patient",
    )
    unknown_list = runner.invoke(_cli_app(), ["codes", "cpt", "99213"])
    assert unknown_list.exit_code == 2 and "no code list 'cpt'" in unknown_list.output
    unknown = runner.invoke(_cli_app(), ["codes", "rarc", "ZZ99"])
    assert unknown.exit_code == 1
    assert "ZZ99 is not in the rarc list (version vista-2018-11-09)" in unknown.output


def test_codes_carc_131_as_a_real_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "claimdesk.cli.main", "codes", "carc", "131"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "CARC 131: Claim specific negotiated discount." in done.stdout
