"""The CMS edit-file and sex/age rules on hand-built snapshots: when each fires, when it
stays silent, and that every finding names the data it read."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from claimdesk.rules import CORE_PACK, DiagnosisSnapshot, run_rules
from claimdesk.rules.edit_data import EditData, Icd10Entry
from claimdesk.rules.snapshot import PatientFacts
from tests.rules.edit_cases import (
    HCPCS_VERSION,
    MUE_VERSION,
    PTP_VERSION,
    hcpcs_snapshot,
    mue_snapshot,
    patient_snapshot,
    ptp_snapshot,
)
from tests.rules.snapshots import SERVICE_DATE, clean_snapshot, line


def _ids(snapshot: object) -> list[str]:
    return [f.rule_id for f in run_rules(snapshot, CORE_PACK).findings]  # type: ignore[arg-type]


def test_ptp_indicator_1_suggests_the_distinct_service_modifiers() -> None:
    (finding,) = CORE_PACK.rule("CD-PTP-002").evaluate(ptp_snapshot("1"))
    assert finding.field == "lines[2].procedure_code"
    assert "29880 with 29881 (line 1)" in finding.message
    assert "59, or XE, XS, XP or XU" in finding.message
    assert PTP_VERSION in finding.message and "Mutually exclusive" in finding.message


def test_ptp_indicator_1_passes_with_an_associated_modifier_on_either_line() -> None:
    assert "CD-PTP-002" not in _ids(ptp_snapshot("1", "XU"))
    assert "CD-PTP-002" not in _ids(ptp_snapshot("1", "59"))
    moved = ptp_snapshot("1")
    on_column1 = moved.model_copy(
        update={"lines": (line(1, procedure_code="29881", modifiers=("XS",)), moved.lines[1])}
    )
    assert "CD-PTP-002" not in _ids(on_column1)
    # A modifier NCCI does not associate with PTP edits does not let the pair through.
    assert "CD-PTP-002" in _ids(ptp_snapshot("1", "GT"))


def test_ptp_indicator_0_is_never_allowed_whatever_the_modifier() -> None:
    for modifiers in ((), ("59",), ("XU", "XS")):
        findings = CORE_PACK.rule("CD-PTP-001").evaluate(ptp_snapshot("0", *modifiers))
        assert len(findings) == 1 and "modifier indicator 0" in findings[0].message


def test_ptp_edit_for_another_date_does_not_fire() -> None:
    other_day = ptp_snapshot("0", on=SERVICE_DATE - timedelta(days=1))
    assert "CD-PTP-001" not in _ids(other_day)


def test_mue_line_edit_counts_each_line_and_date_edit_counts_the_day() -> None:
    # MAI 1: two lines of 2 units each stay within a line limit of 2; one line of 3 does not.
    assert "CD-MUE-001" not in _ids(mue_snapshot("1", 2, 2))
    (over,) = CORE_PACK.rule("CD-MUE-001").evaluate(mue_snapshot("1", 3))
    assert "3 units of J1100" in over.message and "per claim line" in over.message
    # MAI 2 and 3: the units of the day add up across lines; one finding for the day.
    (day,) = CORE_PACK.rule("CD-MUE-001").evaluate(mue_snapshot("3", 2, 1))
    assert "3 units" in day.message and "per date of service" in day.message
    assert MUE_VERSION in day.message and "indicator 3" in day.message
    assert "CD-MUE-001" not in _ids(mue_snapshot("2", 1, 1))


def test_hcpcs_code_not_yet_added_or_already_terminated_is_refused_for_that_date() -> None:
    late = hcpcs_snapshot("J1100", listed=True, added=SERVICE_DATE + timedelta(days=1))
    (finding,) = CORE_PACK.rule("CD-HCPCS-002").evaluate(late)
    assert "was added on" in finding.message and HCPCS_VERSION in finding.message
    current = hcpcs_snapshot("J1100", listed=True, added=date(2020, 1, 1))
    assert not {"CD-HCPCS-001", "CD-HCPCS-002"} & set(_ids(current))
    (unknown,) = CORE_PACK.rule("CD-HCPCS-001").evaluate(hcpcs_snapshot("J9999", listed=False))
    assert unknown.message == f"line 1: J9999 is not a HCPCS Level II code in {HCPCS_VERSION}"


def test_hcpcs_without_a_loaded_file_keeps_the_shape_check_only() -> None:
    assert _ids(clean_snapshot(lines=(line(procedure_code="J9999"),))) == []


def test_sex_edits_fire_for_the_other_sex_and_kx_tells_they_are_right() -> None:
    assert "CD-DX-006" in _ids(patient_snapshot("F", 60, dx="N400"))
    assert "CD-DX-006" not in _ids(patient_snapshot("M", 60, dx="N400"))
    assert "CD-DX-006" not in _ids(patient_snapshot("U", 60, dx="N400"))
    kx = patient_snapshot("F", 60, dx="N400")
    kx = kx.model_copy(update={"lines": (line(procedure_code="99213", modifiers=("KX",)),)})
    assert "CD-DX-006" not in _ids(kx)
    (finding,) = CORE_PACK.rule("CD-DX-006").evaluate(patient_snapshot("M", 30, dx="O80"))
    assert "for female patients" in finding.message and "O00-O9A" in finding.message
    assert "CD-PROC-002" in _ids(patient_snapshot("F", 60, code="G0102"))
    assert "CD-PROC-002" not in _ids(patient_snapshot("M", 60, code="G0102"))


def test_age_edits_use_the_mce_ranges() -> None:
    assert "CD-DX-007" not in _ids(patient_snapshot("F", 12, dx="O80"))
    assert "CD-DX-007" in _ids(patient_snapshot("F", 8, dx="O80"))
    (child,) = CORE_PACK.rule("CD-DX-007").evaluate(patient_snapshot("M", 40, dx="Z00129"))
    assert "ages 0 to 17" in child.message
    assert "CD-DX-007" not in _ids(patient_snapshot("M", 17, dx="Z00129"))


def test_a_loaded_icd10cm_version_decides_and_is_named() -> None:
    loaded = clean_snapshot(
        diagnoses=(
            DiagnosisSnapshot(position=1, code="E119"),
            DiagnosisSnapshot(position=2, code="E11"),
            DiagnosisSnapshot(position=3, code="I10"),
        ),
        edit_data=EditData(
            icd10cm_version="ICD-10-CM FY2027",
            icd10cm=(
                Icd10Entry(code="E119", listed=True, billable=True),
                Icd10Entry(code="E11", listed=True, billable=False),
                Icd10Entry(code="I10", listed=False),
            ),
            versions={"icd10cm": ("ICD-10-CM FY2027",)},
        ),
    )
    result = run_rules(loaded, CORE_PACK)
    assert [(f.rule_id, f.field) for f in result.errors] == [
        ("CD-DX-002", "diagnoses[2].code"),
        ("CD-DX-001", "diagnoses[3].code"),
    ]
    assert "in ICD-10-CM FY2027 (the code set for 2026-11-20)" in result.errors[1].message
    assert result.data_versions["icd10cm"] == "ICD-10-CM FY2027"


def test_the_scrub_says_which_data_each_kind_used() -> None:
    fallback = run_rules(clean_snapshot(), CORE_PACK).data_versions
    assert fallback["ncci-ptp"] == "none loaded (not checked)"
    assert fallback["hcpcs"] == "none loaded (shape check only)"
    assert "shipped with simple-icd-10-cm" in fallback["icd10cm"]
    assert "no ICD-10-CM file loaded for FY2027" in fallback["icd10cm"]
    assert run_rules(ptp_snapshot("1"), CORE_PACK).data_versions["ncci-ptp"] == PTP_VERSION
    september = clean_snapshot(
        service_from=date(2026, 9, 30),
        service_to=date(2026, 9, 30),
        lines=(line(service_date=date(2026, 9, 30)),),
    )
    assert "for FY2026" in run_rules(september, CORE_PACK).data_versions["icd10cm"]


def test_institutional_claims_judge_diagnoses_by_their_through_date() -> None:
    spans = clean_snapshot(
        kind="I",
        service_from=date(2026, 9, 28),
        service_to=date(2026, 10, 2),
        patient=PatientFacts(sex="F", age=40),
        lines=(line(revenue_code="0510", diagnosis_pointers=(), units=Decimal(1)),),
    )
    assert spans.diagnosis_date == date(2026, 10, 2)
    assert clean_snapshot(service_from=date(2026, 9, 28)).diagnosis_date == date(2026, 9, 28)
