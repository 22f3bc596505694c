"""Loading CMS edit files keeps every version with its dates, each file once, all of a file
or nothing (SQLite and PostgreSQL); ICD-10-CM is judged by the fiscal year of the date of
service."""

from __future__ import annotations

import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from claimdesk.claims.snapshot import build_claim_snapshot
from claimdesk.cms_edits.store import list_versions, load_edit_file
from claimdesk.rules import CORE_PACK, ScrubResult, run_rules
from claimdesk.rules.cms_files import EditFileError
from models import AuditEvent
from models.edit_files import EditDataFile, EditDataVersion, Icd10cmCode, NcciPtpEdit
from tests.factories import make_claim
from tests.rules.cms_samples import icd10cm_order_line, ptp_file

TODAY = date(2026, 12, 3)


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _scrub_dx(session: Session, on: date, code: str) -> ScrubResult:
    line = {
        "procedure_code": "99213",
        "charge": Decimal("100.00"),
        "diagnosis_pointers": [1],
        "service_date": on,
    }
    claim = make_claim(session, lines=[line], diagnoses=[code], service_from=on, service_to=on)
    assert claim.id is not None
    snapshot = build_claim_snapshot(session=session, claim_id=claim.id, today=TODAY)
    return run_rules(snapshot, CORE_PACK)


@pytest.fixture
def two_fiscal_years(session: Session, tmp_path: Path) -> Session:
    """FY2026 lists E119 and M5450 (deleted for FY2027); FY2027 lists E119 and M54501 (new)."""
    fy2026 = tmp_path / "icd10cm-codes-2026.txt"
    fy2026.write_text("E119    Type 2 diabetes mellitus\nM5450   Low back pain, unspecified\n")
    fy2027 = tmp_path / "icd10cm-order-2027.txt"
    fy2027.write_text(
        icd10cm_order_line(1, "E119", True, "Type 2 diabetes mellitus")
        + icd10cm_order_line(2, "M5450", False, "Low back pain, unspecified")
        + icd10cm_order_line(3, "M54501", True, "Low back pain, right side")
    )
    for path in (fy2026, fy2027):
        load_edit_file(session, "icd10cm", path, actor="test")
    return session


def test_a_code_valid_in_fy2026_only_is_refused_on_2026_10_15(two_fiscal_years: Session) -> None:
    result = _scrub_dx(two_fiscal_years, date(2026, 10, 15), "M5450")
    (finding,) = result.errors
    assert finding.rule_id == "CD-DX-002"  # a header, no longer billable, in FY2027
    assert "ICD-10-CM FY2027" in finding.message
    assert result.data_versions["icd10cm"] == "ICD-10-CM FY2027"
    assert not _scrub_dx(two_fiscal_years, date(2026, 9, 30), "M5450").errors


def test_a_code_new_in_fy2027_is_refused_before_october(two_fiscal_years: Session) -> None:
    result = _scrub_dx(two_fiscal_years, date(2026, 9, 15), "M54501")
    (finding,) = result.errors
    assert finding.rule_id == "CD-DX-001"
    assert "not an ICD-10-CM code in ICD-10-CM FY2026" in finding.message
    assert "(the code set for 2026-09-15)" in finding.message
    assert not _scrub_dx(two_fiscal_years, date(2026, 10, 15), "M54501").errors


def test_without_a_file_for_the_fiscal_year_the_shipped_set_is_used_and_said(
    two_fiscal_years: Session,
) -> None:
    result = _scrub_dx(two_fiscal_years, date(2027, 10, 1), "E119")
    assert not [f for f in result.findings if f.rule_id.startswith("CD-DX")]
    assert "no ICD-10-CM file loaded for FY2028" in result.data_versions["icd10cm"]


def test_loading_the_same_file_twice_keeps_one_version(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "ccipra-v323r0-f1.txt"
    path.write_text(ptp_file("29881|29880||20250101|*|1|x", "29881|29877||20250101|*|0|y"))
    first = load_edit_file(session, "ncci-ptp", path, actor="test")
    assert (first.rows, first.already_loaded, first.part) == (2, False, "f1")
    assert first.effective_from == date(2026, 10, 1)
    copy = tmp_path / "renamed-copy.txt"
    copy.write_bytes(path.read_bytes())
    again = load_edit_file(session, "ncci-ptp", copy, actor="test", name="something else")
    assert again.already_loaded and again.version == "NCCI PTP practitioner v323r0"
    assert (_count(session, EditDataVersion), _count(session, EditDataFile)) == (1, 1)
    assert _count(session, NcciPtpEdit) == 2
    loads = session.exec(select(AuditEvent).where(AuditEvent.action == "edit_file.loaded")).all()
    assert [e.details["rows"] for e in loads] == [2]


def test_the_parts_of_a_release_make_one_version_and_a_zip_reads(
    session: Session, tmp_path: Path
) -> None:
    part1 = tmp_path / "ccipra-v323r0-f1.txt"
    part1.write_text(ptp_file("29881|29880||20250101|*|1|x"))
    zipped = tmp_path / "medicare-ncci-2026q4-practitioner-ptp-edits-ccipra-v323r0-f2.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("ccipra-v323r0-f2.txt", ptp_file("J1100|96372||20250101|*|1|z"))
        archive.writestr("ccipra-v323r0-f2.xlsx", b"not read")
    load_edit_file(session, "ncci-ptp", part1, actor="test")
    second = load_edit_file(session, "ncci-ptp", zipped, actor="test")
    assert (second.file, second.part) == ("ccipra-v323r0-f2.txt", "f2")
    (version,) = list_versions(session)
    assert [f["part"] for f in version["files"]] == ["f1", "f2"] and version["rows"] == 2
    # Other bytes for a part already held: refused, the corrected file needs its own name.
    part1.write_text(ptp_file("29881|29880||20250101|*|0|changed"))
    with pytest.raises(EditFileError, match="part f1 of 'NCCI PTP practitioner v323r0'"):
        load_edit_file(session, "ncci-ptp", part1, actor="test")


def test_a_malformed_file_names_its_line_and_leaves_nothing(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "icd10cm-order-2027.txt"
    path.write_text(
        icd10cm_order_line(1, "E11", False, "Type 2 diabetes mellitus")
        + icd10cm_order_line(2, "E119", True, "Type 2 diabetes mellitus")
        + "00003 E11.65  1 a dotted code is not the order file's layout\n"
    )
    with pytest.raises(EditFileError) as caught:
        load_edit_file(session, "icd10cm", path, actor="test")
    assert str(caught.value).startswith("icd10cm file icd10cm-order-2027.txt, line 3:")
    assert _count(session, EditDataVersion) == _count(session, Icd10cmCode) == 0


def test_a_file_whose_name_says_nothing_needs_its_version(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "codes.txt"
    path.write_text("E119    Type 2 diabetes mellitus\n")
    with pytest.raises(EditFileError, match="give --version NAME and --effective"):
        load_edit_file(session, "icd10cm", path, actor="test")
    report = load_edit_file(session, "icd10cm", path, actor="test", fy=2027)
    assert report.version == "ICD-10-CM FY2027"
    assert (report.effective_from, report.effective_to) == (date(2026, 10, 1), date(2027, 9, 30))
