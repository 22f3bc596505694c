"""Factories that build real rows; each takes the session and optional overrides."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from claimdesk.x12.npi import npi_check_digit
from models import Claim, Coverage, Patient, Payer, Practice, Provider
from models.crud import create_claim, validated

_counter = itertools.count(1)


def valid_npi(seed: int) -> str:
    prefix = f"1{seed % 100_000_000:08d}"
    return prefix + str(npi_check_digit(prefix))


def make_practice(session: Session, **overrides: Any) -> Practice:
    n = next(_counter)
    data = {"name": f"Practice {n}", "npi": valid_npi(n), "tin": "123456789", **overrides}
    return _add(session, validated(Practice, data))


def make_provider(session: Session, practice: Practice, **overrides: Any) -> Provider:
    n = next(_counter)
    data = {
        "practice_id": practice.id,
        "role": "billing",
        "organization_name": f"Clinic {n}",
        "npi": valid_npi(1000 + n),
        **overrides,
    }
    return _add(session, validated(Provider, data))


def make_payer(session: Session, **overrides: Any) -> Payer:
    n = next(_counter)
    data = {"name": f"Payer {n}", "payer_id": f"PAYER{n:05d}", **overrides}
    return _add(session, validated(Payer, data))


def make_patient(session: Session, practice: Practice, **overrides: Any) -> Patient:
    n = next(_counter)
    data = {
        "practice_id": practice.id,
        "account_number": f"ACCT{n:06d}",
        "last_name": "Testpatient",
        "first_name": f"Pat{n}",
        "birth_date": date(1970, 1, 1),
        **overrides,
    }
    return _add(session, validated(Patient, data))


def make_coverage(session: Session, patient: Patient, payer: Payer, **overrides: Any) -> Coverage:
    n = next(_counter)
    data = {
        "patient_id": patient.id,
        "payer_id": payer.id,
        "member_id": f"MEM{n:08d}",
        "effective_from": date(2020, 1, 1),
        **overrides,
    }
    return _add(session, validated(Coverage, data))


def make_claim(
    session: Session,
    *,
    lines: list[dict[str, Any]] | None = None,
    diagnoses: list[str] | None = None,
    **overrides: Any,
) -> Claim:
    """A claim with its whole world (practice, provider, payer, patient, coverage) unless given."""
    practice = overrides.pop("practice", None) or make_practice(session)
    payer = overrides.pop("payer", None) or make_payer(session)
    patient = overrides.pop("patient", None) or make_patient(session, practice)
    coverage = overrides.pop("coverage", None) or make_coverage(session, patient, payer)
    provider = overrides.pop("provider", None) or make_provider(session, practice)
    n = next(_counter)
    lines = lines or [
        {
            "procedure_code": "99213",
            "charge": Decimal("125.00"),
            "diagnosis_pointers": [1],
            "service_date": date(2026, 10, 1),
        }
    ]
    total = sum((Decimal(str(line["charge"])) for line in lines), Decimal(0))
    data = {
        "practice_id": practice.id,
        "patient_id": patient.id,
        "coverage_id": coverage.id,
        "payer_id": payer.id,
        "billing_provider_id": provider.id,
        "patient_control_number": f"PCN{n:08d}",
        "service_from": date(2026, 10, 1),
        "service_to": date(2026, 10, 1),
        "total_charge": total,
        **overrides,
    }
    return create_claim(
        session=session, claim_in=data, lines=lines, diagnoses=diagnoses or ["E119"]
    )


def _add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row
