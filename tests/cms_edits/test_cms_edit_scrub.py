"""Loaded CMS edit files decide the scrub of a stored claim, by its date of service
(SQLite and PostgreSQL): each edit kind fires and names its data version."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import Session

from claimdesk.claims.snapshot import build_claim_snapshot
from claimdesk.cms_edits.store import load_edit_file
from claimdesk.rules import CORE_PACK, ScrubResult, run_rules
from tests.factories import make_claim, make_patient, make_practice
from tests.rules.cms_samples import hcpcs_record, mue_file, ptp_file

TODAY = date(2026, 12, 3)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _load(session: Session, kind: str, path: Path, **options: Any) -> None:
    load_edit_file(session, kind, path, actor="test", **options)


def _scrub(session: Session, on: date, lines: list[dict[str, Any]], **claim: Any) -> ScrubResult:
    for ln in lines:
        ln.setdefault("charge", Decimal("100.00"))
        ln.setdefault("diagnosis_pointers", [1])
        ln["service_date"] = on
    row = make_claim(session, lines=lines, service_from=on, service_to=on, **claim)
    assert row.id is not None
    return run_rules(build_claim_snapshot(session=session, claim_id=row.id, today=TODAY), CORE_PACK)


def _ids(result: ScrubResult) -> list[str]:
    return [f.rule_id for f in result.findings]


def test_a_ptp_pair_billed_together_is_caught_with_its_version(
    session: Session, tmp_path: Path
) -> None:
    ptp = ptp_file(
        "29881|29880||20250101|*|1|Mutually exclusive procedures",
        "29881|29877||20250101|*|0|Misuse of column two code with column one code",
        "29881|G0289||20250101|20261101|1|Deleted on November 1",
    )
    _load(session, "ncci-ptp", _write(tmp_path, "ccipra-v323r0-f1.txt", ptp))
    on = date(2026, 10, 15)
    result = _scrub(session, on, [{"procedure_code": "29881"}, {"procedure_code": "29880"}])
    (finding,) = result.errors
    assert finding.rule_id == "CD-PTP-002" and "NCCI PTP practitioner v323r0" in finding.message
    assert result.data_versions["ncci-ptp"] == "NCCI PTP practitioner v323r0"
    allowed = _scrub(
        session, on, [{"procedure_code": "29881"}, {"procedure_code": "29880", "modifiers": ["XS"]}]
    )
    assert not allowed.errors
    never = _scrub(
        session, on, [{"procedure_code": "29881"}, {"procedure_code": "29877", "modifiers": ["59"]}]
    )
    assert _ids(never) == ["CD-PTP-001"]
    # Deleted from 2026-11-01: billed on 2026-10-31 it still applies, on 2026-11-01 not.
    pair = [{"procedure_code": "29881"}, {"procedure_code": "G0289"}]
    assert _ids(_scrub(session, date(2026, 10, 31), [dict(p) for p in pair])) == ["CD-PTP-002"]
    assert _ids(_scrub(session, date(2026, 11, 1), [dict(p) for p in pair])) == []
    # Before the release took effect (2026-10-01) no PTP version is in force: not checked.
    before = _scrub(session, date(2026, 9, 30), [dict(p) for p in pair])
    assert _ids(before) == [] and before.data_versions["ncci-ptp"] == "none loaded (not checked)"


def test_an_institutional_claim_reads_the_outpatient_hospital_edits_only(
    session: Session, tmp_path: Path
) -> None:
    ptp = ptp_file("29881|29880||20250101|*|0|Mutually exclusive procedures")
    _load(session, "ncci-ptp", _write(tmp_path, "ccipra-v323r0-f1.txt", ptp))
    lines = [{"procedure_code": code, "revenue_code": "0360"} for code in ("29881", "29880")]
    result = _scrub(session, date(2026, 10, 15), lines, kind="I", facility_type_code="13")
    assert "CD-PTP-001" not in _ids(result)
    assert result.data_versions["ncci-ptp"] == "none loaded (not checked)"


def test_units_over_the_mue_in_force_on_the_date_of_service(
    session: Session, tmp_path: Path
) -> None:
    older = mue_file("J1100|1|2 Date of Service Edit: Policy|Nature of service")
    newer = mue_file("J1100|4|2 Date of Service Edit: Policy|Nature of service")
    _load(
        session, "mue", _write(tmp_path, "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv", older)
    )
    _load(
        session, "mue", _write(tmp_path, "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv", newer)
    )
    two = [{"procedure_code": "J1100", "units": Decimal(2)}]
    september = _scrub(session, date(2026, 9, 15), two)
    (finding,) = september.errors
    assert finding.rule_id == "CD-MUE-001"
    assert "the MUE is 1 per date of service" in finding.message
    assert "MUE practitioner 2026-07-01" in finding.message
    october = _scrub(session, date(2026, 10, 15), [dict(ln) for ln in two])
    assert not october.errors
    assert october.data_versions["mue"] == "MUE practitioner 2026-10-01"


def test_a_hcpcs_code_not_in_the_file_or_not_valid_that_day(
    session: Session, tmp_path: Path
) -> None:
    text = hcpcs_record("J1100", long="Injection, test drug", added="20200101") + hcpcs_record(
        "G0999", long="Old test service", added="20100101", terminated="20260930"
    )
    _load(session, "hcpcs", _write(tmp_path, "HCPC2026_OCT_ANWEB.txt", text))
    on = date(2026, 10, 15)
    unknown = _scrub(session, on, [{"procedure_code": "J9999"}])
    assert [(f.rule_id, f.message) for f in unknown.errors] == [
        ("CD-HCPCS-001", "line 1: J9999 is not a HCPCS Level II code in HCPCS 2026 Oct")
    ]
    ended = _scrub(session, on, [{"procedure_code": "G0999"}])
    assert (
        _ids(ended) == ["CD-HCPCS-002"] and "terminated after 2026-09-30" in ended.errors[0].message
    )
    assert not _scrub(session, on, [{"procedure_code": "J1100"}]).errors
    # CPT is never in the HCPCS file: a CPT code keeps its shape check only.
    assert not _scrub(session, on, [{"procedure_code": "99213"}]).errors


def test_sex_and_age_come_from_the_patient_row(session: Session) -> None:
    practice = make_practice(session)
    man = make_patient(session, practice, gender="M", birth_date=date(1980, 5, 1))
    result = _scrub(
        session,
        date(2026, 10, 15),
        [{"procedure_code": "99213"}],
        practice=practice,
        patient=man,
        diagnoses=["O80"],
    )
    assert _ids(result) == ["CD-DX-006"]
    girl = make_patient(session, practice, gender="F", birth_date=date(2020, 1, 1))
    young = _scrub(
        session,
        date(2026, 10, 15),
        [{"procedure_code": "99213"}],
        practice=practice,
        patient=girl,
        diagnoses=["O80"],
    )
    assert _ids(young) == ["CD-DX-007"]
