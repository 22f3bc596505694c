"""Snapshots that break the CMS edit-file and sex/age rules (codes only, no CPT text)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from claimdesk.rules import ClaimSnapshot, DiagnosisSnapshot
from claimdesk.rules.edit_data import EditData, HcpcsEntry, MueLimit, PtpEdit
from claimdesk.rules.snapshot import PatientFacts
from tests.rules.snapshots import SERVICE_DATE, clean_snapshot, line

PTP_VERSION = "NCCI PTP practitioner v324r0"
MUE_VERSION = "MUE practitioner 2026-10-01"
HCPCS_VERSION = "HCPCS 2026 Oct"


def ptp_snapshot(indicator: str, *modifiers: str, on: date = SERVICE_DATE) -> ClaimSnapshot:
    """Line 1 bills the column 1 code, line 2 the column 2 code (with ``modifiers``)."""
    edit = PtpEdit(
        service_date=on,
        column1="29881",
        column2="29880",
        modifier_indicator=indicator,  # type: ignore[arg-type]
        rationale="Mutually exclusive procedures",
        version=PTP_VERSION,
    )
    return clean_snapshot(
        lines=(
            line(1, procedure_code="29881"),
            line(2, procedure_code="29880", modifiers=modifiers),
        ),
        edit_data=EditData(ptp=(edit,), versions={"ncci-ptp": (PTP_VERSION,)}),
    )


def mue_snapshot(adjudication: str, *units: int, limit: int = 2) -> ClaimSnapshot:
    """One line of J1100 per entry in ``units``, all on the service date, under an MUE."""
    return clean_snapshot(
        lines=tuple(
            line(n, procedure_code="J1100", units=Decimal(u)) for n, u in enumerate(units, 1)
        ),
        edit_data=EditData(
            mue=(
                MueLimit(
                    service_date=SERVICE_DATE,
                    code="J1100",
                    units=limit,
                    adjudication=adjudication,  # type: ignore[arg-type]
                    rationale="Prescribing information",
                    version=MUE_VERSION,
                ),
            ),
            versions={"mue": (MUE_VERSION,)},
        ),
    )


def hcpcs_snapshot(code: str, **entry: object) -> ClaimSnapshot:
    found = HcpcsEntry.model_validate(
        {"service_date": SERVICE_DATE, "code": code, "version": HCPCS_VERSION, **entry}
    )
    return clean_snapshot(
        lines=(line(procedure_code=code),),
        edit_data=EditData(hcpcs=(found,), versions={"hcpcs": (HCPCS_VERSION,)}),
    )


def patient_snapshot(sex: str, age: int, *, dx: str = "E119", code: str = "99213") -> ClaimSnapshot:
    return clean_snapshot(
        lines=(line(procedure_code=code),),
        diagnoses=(DiagnosisSnapshot(position=1, code=dx),),
        patient=PatientFacts(sex=sex, age=age),  # type: ignore[arg-type]
    )


# rule id → (a snapshot that breaks it, the field the finding must name)
EDIT_CASES: dict[str, tuple[Callable[[], ClaimSnapshot], str]] = {
    "CD-PTP-001": (lambda: ptp_snapshot("0", "59"), "lines[2].procedure_code"),
    "CD-PTP-002": (lambda: ptp_snapshot("1"), "lines[2].procedure_code"),
    "CD-MUE-001": (lambda: mue_snapshot("2", 2, 1), "lines[1].units"),
    "CD-HCPCS-001": (lambda: hcpcs_snapshot("J9999", listed=False), "lines[1].procedure_code"),
    "CD-HCPCS-002": (
        lambda: hcpcs_snapshot("G0999", listed=True, terminated=date(2025, 12, 31)),
        "lines[1].procedure_code",
    ),
    "CD-DX-006": (lambda: patient_snapshot("M", 30, dx="O80"), "diagnoses[1].code"),
    "CD-DX-007": (lambda: patient_snapshot("F", 70, dx="O80"), "diagnoses[1].code"),
    "CD-PROC-002": (lambda: patient_snapshot("F", 60, code="G0102"), "lines[1].procedure_code"),
}
