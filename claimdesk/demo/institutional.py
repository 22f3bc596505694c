"""The demo practice's institutional side: a hospital outpatient department and an ASC.

Riverside's doctors also work at Riverside Hospital's outpatient department (bill type
131: emergency visits, clinic visits with lab, physical therapy) and at Riverside
Surgery Center (bill type 831: colonoscopy, cataract surgery). Those facilities bill
837Is: revenue codes with HCPCS, UB-04 condition, occurrence and value codes, the
patient's doctor as attending (and operating, for surgery). Deterministic for a seed,
drawn from a random stream of its own so the professional claims stay as they were.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from claimdesk.x12.npi import npi_check_digit
from models import Claim, Coverage, FeeSchedule, Patient, Payer, Practice, Provider
from models.crud import create_claim

# (code, charge, Medicare-like allowed) of the facility's chargemaster.
FACILITY_FEES: dict[str, tuple[Decimal, Decimal]] = {
    "99283": (Decimal("650.00"), Decimal("215.00")),
    "73610": (Decimal("210.00"), Decimal("64.00")),
    "G0463": (Decimal("240.00"), Decimal("131.00")),
    "80053": (Decimal("85.00"), Decimal("10.56")),
    "36415": (Decimal("25.00"), Decimal("3.00")),
    "97110": (Decimal("65.00"), Decimal("29.00")),
    "45378": (Decimal("1450.00"), Decimal("420.00")),
    "66984": (Decimal("2900.00"), Decimal("1040.00")),
}


@dataclass(frozen=True)
class Facility:
    key: str
    name: str
    npi_prefix: str
    taxonomy: str
    type_of_bill: str  # FL4's first two digits: 13 hospital outpatient, 83 ASC
    place_of_service: str


HOSPITAL = Facility("hospital", "Riverside Hospital", "123456790", "282N00000X", "13", "22")
SURGERY = Facility("asc", "Riverside Surgery Center", "123456791", "261QA1903X", "83", "24")


@dataclass(frozen=True)
class FacilityVisit:
    """One outpatient encounter: its lines (revenue code, HCPCS, modifiers, units)."""

    facility: Facility
    lines: tuple[tuple[str, str, tuple[str, ...], int], ...]
    diagnoses: tuple[str, ...]
    min_age: int
    # UB-04 data; occurrence dates are days before the visit.
    emergency: bool = False
    occurrences: tuple[tuple[str, int], ...] = ()
    value_codes: tuple[tuple[str, str], ...] = ()
    surgery: bool = False


FACILITY_VISITS: tuple[FacilityVisit, ...] = (
    # An ankle sprain from a fall: the accident (occurrence 05) and its hour (value 45).
    FacilityVisit(
        HOSPITAL,
        (("0450", "99283", (), 1), ("0320", "73610", (), 1)),
        ("S93401A",),
        min_age=18,
        emergency=True,
        occurrences=(("05", 0),),
        value_codes=(("45", "14"),),
    ),
    # A clinic visit with labs; symptoms began two weeks earlier (occurrence 11).
    FacilityVisit(
        HOSPITAL,
        (("0510", "G0463", (), 1), ("0300", "80053", (), 1), ("0300", "36415", (), 1)),
        ("E119", "E785"),
        min_age=18,
        occurrences=(("11", 14),),
    ),
    # Physical therapy under a plan of care begun three weeks earlier (occurrence 35),
    # one visit (value 50).
    FacilityVisit(
        HOSPITAL,
        (("0420", "97110", ("GP",), 3),),
        ("M5450",),
        min_age=18,
        occurrences=(("35", 21),),
        value_codes=(("50", "1"),),
    ),
    FacilityVisit(SURGERY, (("0490", "45378", (), 1),), ("Z1211",), min_age=50, surgery=True),
    FacilityVisit(SURGERY, (("0490", "66984", ("RT",), 1),), ("H2511",), min_age=55, surgery=True),
)


def _facility_provider(session: Session, practice: Practice, facility: Facility) -> Provider:
    npi = facility.npi_prefix + str(npi_check_digit(facility.npi_prefix))
    row = session.exec(
        select(Provider).where(Provider.practice_id == practice.id, Provider.npi == npi)
    ).first()
    if row is None:
        row = Provider(
            practice_id=practice.id or 0,
            npi=npi,
            role="billing",
            organization_name=facility.name,
            tin="371234567",
            taxonomy=facility.taxonomy,
            address_line1="1 Hospital Plaza" if facility is HOSPITAL else "20 Surgery Way",
            city=practice.city,
            state=practice.state,
            postal_code=practice.postal_code,
        )
        session.add(row)
        session.flush()
    return row


def _fees(session: Session, payers: list[Payer], today: date) -> None:
    factors = {"medicare": Decimal("1.00"), "medicaid": Decimal("0.80")}
    for payer in payers:
        for code, (_charge, allowed) in FACILITY_FEES.items():
            exists = session.exec(
                select(FeeSchedule.id).where(
                    FeeSchedule.payer_id == payer.id, FeeSchedule.code == code
                )
            ).first()
            if exists is None:
                factor = factors.get(payer.kind, Decimal("1.25"))
                session.add(
                    FeeSchedule(
                        payer_id=payer.id or 0,
                        code=code,
                        effective_from=date(today.year - 1, 1, 1),
                        expected_allowed=(allowed * factor).quantize(Decimal("0.01")),
                    )
                )
    session.flush()


def _institutional_data(
    visit: FacilityVisit, service_date: date, medicare: bool, operating_id: int | None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "admission_type": "1" if visit.emergency else "3",  # emergency or elective
        "admission_source": "1",  # non-health-care point of origin
        "patient_status": "01",
        "occurrences": [
            {"code": code, "on": (service_date - timedelta(days=days)).isoformat()}
            for code, days in visit.occurrences
        ],
        "value_codes": [{"code": code, "amount": amount} for code, amount in visit.value_codes],
        # 09: neither the patient nor the spouse is employed (Medicare's MSP screening).
        "condition_codes": ["09"] if medicare else [],
    }
    if visit.emergency:
        data["admission_date"] = service_date.isoformat()
        data["admission_hour"] = "1415"
    if visit.surgery and operating_id is not None:
        data["operating_provider_id"] = operating_id
    return data


def add_institutional_claims(
    session: Session,
    *,
    count: int,
    seed: int,
    today: date,
    practice: Practice,
    payers: list[Payer],
    enrolled: list[tuple[Patient, Coverage]],
    attending_for: Callable[[Patient], int],
    authorization_for: Callable[[Patient, Payer, list[str], date], int | None],
) -> tuple[int, int]:
    """``count`` draft 837I claims (created, skipped as already there)."""
    if count <= 0:
        return 0, 0
    rng = random.Random(f"institutional-{seed}")
    facilities = {f.key: _facility_provider(session, practice, f) for f in (HOSPITAL, SURGERY)}
    _fees(session, payers, today)
    payer_by_id = {p.id: p for p in payers}
    created = skipped = 0
    used: set[tuple[int | None, int]] = set()
    for index in range(count):
        pcn = f"H{seed % 1000:03d}{index:07d}"
        visit = FACILITY_VISITS[index % len(FACILITY_VISITS)]
        adults = [
            (p, c) for p, c in enrolled if (today - p.birth_date).days // 365 >= visit.min_age
        ]
        patient, coverage = rng.choice(adults or enrolled)
        days_ago = rng.randint(3, 45)
        while (patient.id, days_ago) in used:
            days_ago += 1
        used.add((patient.id, days_ago))
        exists = session.exec(
            select(Claim.id).where(
                Claim.practice_id == practice.id, Claim.patient_control_number == pcn
            )
        ).first()
        if exists is not None:
            skipped += 1
            continue
        payer = payer_by_id[coverage.payer_id]
        service_date = today - timedelta(days=days_ago)
        doctor = attending_for(patient)
        codes = [hcpcs for _rev, hcpcs, _mods, _units in visit.lines]
        lines = [
            {
                "revenue_code": revenue,
                "procedure_code": hcpcs,
                "modifiers": list(modifiers),
                "units": Decimal(units),
                "charge": FACILITY_FEES[hcpcs][0] * units,
                "diagnosis_pointers": [1],  # the model wants one; an 837I line sends none
                "service_date": service_date,
            }
            for revenue, hcpcs, modifiers, units in visit.lines
        ]
        facility = visit.facility
        create_claim(
            session=session,
            claim_in={
                "practice_id": practice.id,
                "patient_id": patient.id,
                "coverage_id": coverage.id,
                "payer_id": coverage.payer_id,
                "billing_provider_id": facilities[facility.key].id,
                "rendering_provider_id": doctor,  # the 837I's attending (2310A)
                "authorization_id": authorization_for(patient, payer, codes, service_date),
                "kind": "I",
                "facility_type_code": facility.type_of_bill,
                "institutional": _institutional_data(
                    visit, service_date, payer.kind == "medicare", doctor
                ),
                "patient_control_number": pcn,
                "service_from": service_date,
                "service_to": service_date,
                "place_of_service": facility.place_of_service,
                "total_charge": sum(
                    (FACILITY_FEES[hcpcs][0] * units for _r, hcpcs, _m, units in visit.lines),
                    Decimal(0),
                ),
            },
            lines=lines,
            diagnoses=list(visit.diagnoses),
            actor="system:demo-data",
        )
        created += 1
    return created, skipped
