"""The payer simulator's configuration, made from claimdesk's own demo database.

The demo's payers, members and fee schedule are what the simulator answers for,
so eligibility, acknowledgements and remittances match the practice's data.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from models import Coverage, FeeSchedule, Patient, Payer


def sim_config_from_database(
    session: Session, *, clock_start: date, seed: int = 1
) -> dict[str, Any]:
    payers = session.exec(select(Payer)).all()
    payer_edi = {p.id: p.payer_id for p in payers}
    roster = []
    for coverage, patient in session.exec(
        select(Coverage, Patient).join(Patient, Patient.id == Coverage.patient_id)  # type: ignore[arg-type]
    ).all():
        is_self = coverage.relationship == "self"
        ended = coverage.effective_to is not None and coverage.effective_to < clock_start
        roster.append(
            {
                "member_id": coverage.member_id,
                # A dependent is looked up by the subscriber's member id; the 271 names the patient.
                "first_name": patient.first_name
                if is_self
                else (coverage.subscriber_first_name or patient.first_name),
                "last_name": patient.last_name
                if is_self
                else (coverage.subscriber_last_name or patient.last_name),
                "birth_date": (
                    patient.birth_date
                    if is_self
                    else coverage.subscriber_birth_date or patient.birth_date
                ).isoformat(),
                "gender": patient.gender if is_self else "U",
                "payer_id": payer_edi[coverage.payer_id],
                "group_number": coverage.group_number or "NONE",
                "coverage_start": coverage.effective_from.isoformat(),
                "coverage_end": coverage.effective_to.isoformat()
                if coverage.effective_to
                else None,
                "status": "terminated" if ended else "active",
            }
        )
    fees: dict[str, Decimal] = {}
    for row in session.exec(select(FeeSchedule)).all():
        fees[row.code] = max(fees.get(row.code, Decimal(0)), row.expected_allowed)
    return {
        "seed": seed,
        "clock_start": clock_start.isoformat(),
        "payers": [
            {
                "payer_id": p.payer_id,
                "name": p.name[:60],
                "medicare_like": p.kind == "medicare",
                "timely_filing_days": p.timely_filing_days,
                "insurance_type": {"medicare": "MB", "medicaid": "MC"}.get(p.kind, "PR"),
            }
            for p in payers
        ],
        "roster": roster,
        "fee_schedule": {code: str(amount) for code, amount in fees.items()},
        "authorization_required": sorted({c for p in payers for c in p.prior_auth_codes}),
    }
