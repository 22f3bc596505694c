"""validate(): pyx12 wrapper faults absorbed, our TR3 checks name the position."""

from __future__ import annotations

from pathlib import Path

from claimdesk.x12._write_270 import write_270
from claimdesk.x12._write_837 import write_837p
from claimdesk.x12.validate import validate, validate_with_pyx12
from tests.x12.strategies import make_270, make_837_batch


def _replace_segment(data: bytes, old: str, new: str | None) -> bytes:
    segments = data.decode("ascii").split("~")
    index = segments.index(old)
    if new is None:
        del segments[index]
    else:
        segments[index] = new
    return "~".join(segments).encode("ascii")


def test_validate_270_missing_eq_names_the_lowest_level() -> None:
    broken = _replace_segment(write_270(make_270()), "EQ*30", None)
    issues = validate(broken)
    messages = [str(issue) for issue in issues]
    assert "segment 9 HL: the lowest level '22' is missing EQ." in messages
    # the SE count is now wrong too, and said so
    assert any(issue.element == "SE01" and issue.position == 14 for issue in issues)


def test_validate_270_bad_hl_parent_names_hl02() -> None:
    broken = _replace_segment(write_270(make_270()), "HL*3*2*22*0", "HL*3*1*22*0")
    issues = validate(broken)
    [issue] = [i for i in issues if i.element == "HL02"]
    assert (issue.position, issue.segment_id) == (9, "HL")
    assert "level '21'" in issue.message
    # the receiver HL 21 now has no child, which is reported at its own position
    assert any(i.position == 7 and i.element == "HL04" for i in issues)


def test_validate_270_wrong_se_count_names_se01() -> None:
    broken = _replace_segment(write_270(make_270()), "SE*13*0001", "SE*12*0001")
    [issue] = validate(broken)
    assert (issue.position, issue.segment_id, issue.element) == (15, "SE", "SE01")
    assert "'12'" in issue.message and "13" in issue.message


def test_validate_270_wrong_ge_and_iea_counts() -> None:
    data = write_270(make_270())
    broken = _replace_segment(_replace_segment(data, "GE*1*17", "GE*2*17"), "IEA*1*000000905",
                              "IEA*1*000000906")  # fmt: skip
    assert {(i.segment_id, i.element) for i in validate(broken)} == {
        ("GE", "GE01"),
        ("IEA", "IEA02"),
    }


def test_validate_with_pyx12_strips_a_utf8_bom() -> None:
    data = write_837p(make_837_batch("P", 2))
    assert validate_with_pyx12(b"\xef\xbb\xbf" + data) == []


def test_validate_with_pyx12_reports_an_unknown_version() -> None:
    data = write_837p(make_837_batch("P", 1)).replace(b"005010X222A1", b"005010X999A9")
    [issue] = validate_with_pyx12(data)
    assert "Map not found" in issue.message


def test_validate_with_pyx12_reports_a_bad_code_by_element(tmp_path: Path) -> None:
    data = write_837p(make_837_batch("P", 1)).replace(b"*11:B:1*", b"*11:X:1*")
    before = set(Path.cwd().iterdir())
    issues = validate_with_pyx12(data)
    assert [(i.segment_id, i.element) for i in issues] == [("CLM", "CLM05-2")]
    assert issues[0].position is not None
    assert set(Path.cwd().iterdir()) == before  # pyx12 wrote no files


def test_validate_with_pyx12_reports_non_x12() -> None:
    issues = validate_with_pyx12(b"hello")
    assert len(issues) == 1


def test_validate_routes_837_to_pyx12() -> None:
    assert validate(write_837p(make_837_batch("P", 3))) == []


def test_validate_reports_unreadable_input_as_an_issue() -> None:
    issues = validate(b"not x12 at all")
    assert len(issues) == 1 and issues[0].source == "tr3"


def test_cli_validate_exits_1_naming_line_and_element(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from claimdesk.cli.x12_cmd import app

    good = tmp_path / "good.270"
    good.write_bytes(write_270(make_270()))
    bad = tmp_path / "bad.270"
    bad.write_bytes(_replace_segment(write_270(make_270()), "SE*13*0001", "SE*12*0001"))
    runner = CliRunner()
    ok = runner.invoke(app, ["validate", str(good)])
    assert ok.exit_code == 0, ok.output
    failed = runner.invoke(app, ["validate", str(bad)])
    assert failed.exit_code == 1
    assert "segment 15 SE SE01" in failed.output
    assert "Traceback" not in failed.output


def test_is_valid_npi_checks_the_luhn_digit_over_80840() -> None:
    from claimdesk.x12.npi import is_valid_npi

    assert is_valid_npi("1234567893")
    assert not is_valid_npi("1234567890")
    assert not is_valid_npi("123456789")
    assert not is_valid_npi("12345678９3")
