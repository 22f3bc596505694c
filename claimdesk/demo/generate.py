"""A believable synthetic practice, deterministic for a seed.

Feeds the demo, the tests and the benchmarks: providers with valid NPIs, the
four simulated payers with their deadlines, patients and coverages (some
inactive, some with a secondary, some dependents) and draft claims with real
CPT and ICD-10-CM codes, chargemaster prices and recent dates of service; on
request, institutional (837I) claims from the hospital outpatient department
and surgery center the practice's doctors work at (``demo/institutional.py``).
Running it again with the same seed adds nothing twice.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from claimdesk.demo.catalog import (
    CITIES,
    FIRST_NAMES,
    LAST_NAMES,
    PAYERS,
    PROCEDURES,
    STREETS,
    VISITS,
)
from claimdesk.demo.institutional import add_institutional_claims
from claimdesk.x12.npi import npi_check_digit
from models import (
    Appointment,
    Authorization,
    Claim,
    Coverage,
    FeeSchedule,
    Patient,
    Payer,
    Practice,
    Provider,
)
from models.crud import create_claim, validated

DEMO_PRACTICE_NPI_PREFIX = "123456789"


@dataclass(frozen=True)
class DemoSummary:
    practice_id: int
    payers: int
    patients: int
    claims_created: int
    claims_skipped: int
    appointments: int


def _npi(rng: random.Random) -> str:
    prefix = f"1{rng.randrange(10**8):08d}"
    return prefix + str(npi_check_digit(prefix))


def _get_or_add(
    session: Session, model: type[Any], where: dict[str, Any], data: dict[str, Any]
) -> Any:
    """The row matching ``where``, created from ``where`` + ``data`` when missing."""
    query: Any = select(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    row = session.exec(query).first()
    if row is None:
        row = validated(model, {**where, **data})
        session.add(row)
        session.flush()
    return row


def generate_demo_practice(
    session: Session,
    *,
    claims: int,
    seed: int,
    today: date | None = None,
    patients: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    institutional_claims: int = 0,
) -> DemoSummary:
    """Fill the database with a demo practice and ``claims`` draft claims.

    ``institutional_claims`` more draft claims are 837Is (outpatient hospital and ASC).

    ``patients`` defaults to a third of the claims (a patient visits about three times).
    ``progress(done, total)`` is told as each claim is made (the CLI draws a bar).
    """
    today = today or datetime.now(UTC).date()
    rng = random.Random(seed)
    city, state, postal = CITIES[0]
    practice_npi = DEMO_PRACTICE_NPI_PREFIX + str(npi_check_digit(DEMO_PRACTICE_NPI_PREFIX))
    practice = _get_or_add(
        session,
        Practice,
        {"npi": practice_npi},
        {
            "name": "Riverside Family Medicine",
            "tin": "371234567",
            "taxonomy": "207Q00000X",
            "address_line1": "400 Riverside Dr",
            "city": city,
            "state": state,
            "postal_code": postal,
        },
    )
    billing = _get_or_add(
        session,
        Provider,
        {"practice_id": practice.id, "npi": practice_npi},
        {
            "role": "billing",
            "organization_name": "Riverside Family Medicine",
            "tin": "371234567",
            "taxonomy": "207Q00000X",
            "address_line1": "400 Riverside Dr",
            "city": city,
            "state": state,
            "postal_code": postal,
        },
    )
    doctor_rng = random.Random(f"providers-{practice_npi}")
    renderers = [
        _get_or_add(
            session,
            Provider,
            {"practice_id": practice.id, "last_name": last, "role": "rendering"},
            {"first_name": first, "npi": _npi(doctor_rng), "taxonomy": "207Q00000X"},
        )
        for first, last in [("Helen", "Okafor"), ("Samuel", "Lindgren"), ("Priya", "Raman")]
    ]
    payers = [_get_or_add(session, Payer, {"payer_id": p["payer_id"]}, p) for p in PAYERS]
    for payer in payers:
        for code, (_charge, allowed) in PROCEDURES.items():
            _get_or_add(
                session,
                FeeSchedule,
                {"payer_id": payer.id, "code": code},
                {
                    "effective_from": date(today.year - 1, 1, 1),
                    "expected_allowed": _payer_allowed(payer, allowed),
                },
            )

    patient_count = patients or max(1, claims // 3)
    enrolled = [
        _patient(session, rng, practice, payers, seed, index, today)
        for index in range(patient_count)
    ]

    created = skipped = 0
    payer_by_id = {p.id: p for p in payers}
    visit_days: set[tuple[int | None, int]] = set()
    renderer_of: dict[int | None, int] = {}
    for index in range(claims):
        if progress is not None:
            progress(index, claims)
        pcn = f"D{seed % 1000:03d}{index:07d}"
        exists = session.exec(
            select(Claim.id).where(
                Claim.practice_id == practice.id, Claim.patient_control_number == pcn
            )
        ).first()
        patient, coverage = enrolled[rng.randrange(len(enrolled))]
        procedures, diagnoses = VISITS[rng.randrange(len(VISITS))]
        days_ago = rng.randint(2, 60)
        # One visit a day per patient: the same codes twice on a day would be a true duplicate.
        while (patient.id, days_ago) in visit_days:
            days_ago += 1
        visit_days.add((patient.id, days_ago))
        payer = payer_by_id[coverage.payer_id]
        if "G0439" in procedures and payer.kind != "medicare":
            procedures, diagnoses = ["99396"], ["Z0000"]  # annual wellness visits are Medicare's
        if exists is not None:
            skipped += 1
            continue
        service_date = today - timedelta(days=days_ago)
        authorization_id = _authorization_for(session, patient, payer, procedures, service_date)
        lines = [
            {
                "procedure_code": code,
                # Therapy under a physical therapy plan of care carries GP (Medicare requires it).
                "modifiers": ["GP"] if code == "97110" else [],
                "charge": PROCEDURES[code][0],
                "diagnosis_pointers": list(range(1, len(diagnoses) + 1))[:4],
                "service_date": service_date,
            }
            for code in procedures
        ]
        create_claim(
            session=session,
            claim_in={
                "practice_id": practice.id,
                "patient_id": patient.id,
                "coverage_id": coverage.id,
                "payer_id": coverage.payer_id,
                "billing_provider_id": billing.id,
                # A patient sees the same doctor (different doctors the same day bundle apart).
                "rendering_provider_id": renderer_of.setdefault(
                    patient.id, renderers[rng.randrange(len(renderers))].id
                ),
                "authorization_id": authorization_id,
                "patient_control_number": pcn,
                "service_from": service_date,
                "service_to": service_date,
                "place_of_service": "11",
                "total_charge": sum((PROCEDURES[code][0] for code in procedures), Decimal(0)),
            },
            lines=lines,
            diagnoses=diagnoses,
            actor="system:demo-data",
        )
        created += 1

    def attending_for(patient: Patient) -> int:
        # The patient's own doctor; one who has no office visit yet gets one by id
        # (drawing from ``rng`` here would move every appointment below).
        if patient.id not in renderer_of:
            renderer_of[patient.id] = renderers[(patient.id or 0) % len(renderers)].id
        return renderer_of[patient.id]

    made, already = add_institutional_claims(
        session,
        count=institutional_claims,
        seed=seed,
        today=today,
        practice=practice,
        payers=payers,
        enrolled=enrolled,
        attending_for=attending_for,
        authorization_for=lambda patient, payer, codes, on: _authorization_for(
            session, patient, payer, codes, on
        ),
    )
    created, skipped = created + made, skipped + already

    appointments = 0
    for patient, _coverage in enrolled[: max(1, len(enrolled) // 10)]:
        when = datetime.combine(
            today + timedelta(days=rng.randint(1, 5)), time(9 + rng.randint(0, 7), 0), tzinfo=UTC
        )
        _get_or_add(
            session,
            Appointment,
            {"patient_id": patient.id, "scheduled_at": when},
            {"provider_id": renderers[0].id, "reason": "follow-up"},
        )
        appointments += 1
    session.flush()
    assert practice.id is not None
    return DemoSummary(practice.id, len(payers), len(enrolled), created, skipped, appointments)


def _authorization_for(
    session: Session, patient: Patient, payer: Payer, procedures: list[str], service_date: date
) -> int | None:
    """The prior authorization the office obtained for codes this payer wants one for."""
    codes = [code for code in procedures if code in payer.prior_auth_codes]
    if not codes:
        return None
    authorization = validated(
        Authorization,
        {
            "patient_id": patient.id,
            "payer_id": payer.id,
            "kind": "prior_auth",
            "number": f"PA{patient.id:05d}{service_date:%m%d}",
            "codes": codes,
            "valid_from": service_date - timedelta(days=14),
            "valid_to": service_date + timedelta(days=76),
            "units": 12,
        },
    )
    session.add(authorization)
    session.flush()
    return authorization.id


def _payer_allowed(payer: Payer, medicare_allowed: Decimal) -> Decimal:
    # Commercial plans typically allow ~125% of Medicare; Medicaid ~80%.
    factor = {"medicare": Decimal("1.00"), "medicaid": Decimal("0.80")}.get(
        payer.kind, Decimal("1.25")
    )
    return (medicare_allowed * factor).quantize(Decimal("0.01"))


def _patient(
    session: Session,
    rng: random.Random,
    practice: Practice,
    payers: list[Payer],
    seed: int,
    index: int,
    today: date,
) -> tuple[Patient, Coverage]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    age = rng.randint(1, 89)
    birth = today.replace(year=today.year - age) - timedelta(days=rng.randint(0, 364))
    city, state, postal = rng.choice(CITIES)
    patient = _get_or_add(
        session,
        Patient,
        {"practice_id": practice.id, "account_number": f"A{seed % 1000:03d}{index:06d}"},
        {
            "first_name": first,
            "last_name": last,
            "birth_date": birth,
            "gender": rng.choice("FM"),
            "address_line1": f"{rng.randint(10, 999)} {rng.choice(STREETS)}",
            "city": city,
            "state": state,
            "postal_code": postal,
        },
    )
    # Over 65 → Medicare; children → Medicaid mostly; others commercial.
    if age >= 65:
        primary = payers[0]
    elif age < 18 and rng.random() < 0.6:
        primary = payers[1]
    else:
        primary = rng.choice(payers[2:])
    dependent = age < 18 and primary.kind == "commercial"
    # About 8% of coverages ended before the visits: eligibility has to catch them.
    ended = rng.random() < 0.08
    coverage = _get_or_add(
        session,
        Coverage,
        {"patient_id": patient.id, "coverage_order": 1},
        {
            "payer_id": primary.id,
            "member_id": _member_id(rng, primary),
            "group_number": None
            if primary.kind != "commercial"
            else f"GRP{rng.randint(1000, 9999)}",
            "relationship": "child" if dependent else "self",
            "subscriber_first_name": rng.choice(FIRST_NAMES) if dependent else None,
            "subscriber_last_name": last if dependent else None,
            "subscriber_birth_date": birth.replace(year=birth.year - 30) if dependent else None,
            "effective_from": date(today.year - 3, 1, 1),
            "effective_to": today - timedelta(days=90) if ended else None,
        },
    )
    # Medicare patients often carry a supplement; some commercial members a spouse's plan.
    if (primary.kind == "medicare" and rng.random() < 0.4) or rng.random() < 0.08:
        secondary = payers[3] if primary is not payers[3] else payers[2]
        _get_or_add(
            session,
            Coverage,
            {"patient_id": patient.id, "coverage_order": 2},
            {
                "payer_id": secondary.id,
                "member_id": _member_id(rng, secondary),
                "relationship": "self",
                "effective_from": date(today.year - 2, 1, 1),
            },
        )
    return patient, coverage


def _member_id(rng: random.Random, payer: Payer) -> str:
    if payer.kind == "medicare":  # MBI shape: 1EG4-TE5-MK73 without dashes
        letters = "ACDEFGHJKMNPQRTUVWXY"
        return (
            f"{rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters + '0123456789')}"
            f"{rng.randint(0, 9)}{rng.choice(letters)}{rng.choice(letters + '0123456789')}"
            f"{rng.randint(0, 9)}{rng.choice(letters)}{rng.choice(letters)}{rng.randint(10, 99)}"
        )
    return f"{payer.payer_id[3:]}{rng.randint(10**8, 10**9 - 1)}"
