"""Hand-built snapshots for the pure rule tests: a clean claim and ways to break it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from claimdesk.rules import (
    ClaimSnapshot,
    CoverageSnapshot,
    DiagnosisSnapshot,
    LineSnapshot,
    PayerSnapshot,
    ProviderSnapshot,
)
from claimdesk.x12.npi import npi_check_digit

TODAY = date(2026, 11, 27)
SERVICE_DATE = date(2026, 11, 20)


def npi(prefix: str = "123456789") -> str:
    return prefix + str(npi_check_digit(prefix))


def line(number: int = 1, **overrides: Any) -> LineSnapshot:
    data: dict[str, Any] = {
        "number": number,
        "procedure_code": "99213",
        "diagnosis_pointers": (1,),
        "charge": Decimal("125.00"),
        "service_date": SERVICE_DATE,
        **overrides,
    }
    return LineSnapshot(**data)


def clean_snapshot(**overrides: Any) -> ClaimSnapshot:
    """A professional claim every core rule passes: one 99213 line for E119, in coverage."""
    lines = overrides.pop("lines", None) or (line(),)
    data: dict[str, Any] = {
        "claim_id": 101,
        "kind": "P",
        "service_from": SERVICE_DATE,
        "service_to": SERVICE_DATE,
        "total_charge": sum((ln.charge for ln in lines), Decimal(0)),
        "lines": tuple(lines),
        "diagnoses": (DiagnosisSnapshot(position=1, code="E119"),),
        "coverage": CoverageSnapshot(
            effective_from=date(2020, 1, 1), has_member_id=True, payer_row_id=7
        ),
        "payer": PayerSnapshot(row_id=7, payer_id="SIMTST", timely_filing_days=365),
        "billing_provider": ProviderSnapshot(npi=npi()),
        "today": TODAY,
        **overrides,
    }
    return ClaimSnapshot(**data)


def change(snapshot: ClaimSnapshot, **update: Any) -> ClaimSnapshot:
    """A copy of ``snapshot`` with ``update``, validated again."""
    return ClaimSnapshot.model_validate({**snapshot.model_dump(), **update})
