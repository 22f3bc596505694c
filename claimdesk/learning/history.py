"""The office's own history, one row per posted 835 service line, for the learners.

A line is *denied* when one of its CAS adjustments opened a ``Denial`` (same claim
payment, group and reason); it is *paid* when it is not denied and the payer paid on it.
The line's codes are the claim's (modifiers, place of service, the first pointed
diagnosis); no stored copy of each claim version exists, so a claim corrected after its
835 shows its current lines. Names, member ids and birth dates are never read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session, col, or_, select

from models import (
    Adjustment,
    Claim,
    ClaimLine,
    ClaimPayment,
    Denial,
    Diagnosis,
    Payer,
    RemarkCode,
    Remittance,
    ServicePayment,
)

ZERO = Decimal(0)
DEFAULT_WINDOW_DAYS = 90


@dataclass(frozen=True)
class LineOutcome:
    service_payment_id: int
    claim_payment_id: int
    remittance_id: int
    claim_id: int
    line_number: int
    payer_row_id: int
    payer_code: str
    procedure_code: str
    modifiers: tuple[str, ...]
    place_of_service: str
    diagnosis_family: str  # the first 3 characters of the first pointed ICD-10-CM code
    service_date: date
    paid_on: date
    charge: Decimal
    paid: Decimal
    units: Decimal
    # paid + patient responsibility + sequestration (CO-253): the AMT*B6 is not stored.
    allowed: Decimal
    denied: bool
    carc: str | None  # "CO-4": the adjustment that opened the denial
    rarcs: tuple[str, ...]
    denied_amount: Decimal
    # Other codes billed on the same claim for the same date (a bundled pair's evidence).
    same_day_codes: frozenset[str]

    @property
    def was_paid(self) -> bool:
        return not self.denied and self.paid > 0


def window_start(today: date, days: int = DEFAULT_WINDOW_DAYS) -> date:
    if days <= 0:
        raise ValueError(f"the window must be at least one day, not {days}")
    return today - timedelta(days=days)


def line_outcomes(
    session: Session, *, today: date, days: int = DEFAULT_WINDOW_DAYS
) -> list[LineOutcome]:
    """Every matched 835 service line paid or denied within ``days`` before ``today``."""
    start = window_start(today, days)
    rows = session.exec(
        select(ServicePayment, ClaimPayment, Remittance)
        .join(ClaimPayment, col(ClaimPayment.id) == col(ServicePayment.claim_payment_id))
        .join(Remittance, col(Remittance.id) == col(ClaimPayment.remittance_id))
        .where(col(ClaimPayment.claim_id).is_not(None))
        .where(col(ServicePayment.claim_line_id).is_not(None))
        .where(
            or_(
                col(Remittance.payment_date) > start,
                col(Remittance.payment_date).is_(None),
            )
        )
        .order_by(col(ServicePayment.id))
    ).all()
    kept = [
        (svc, cp, _paid_on(remit)) for svc, cp, remit in rows if start < _paid_on(remit) <= today
    ]
    if not kept:
        return []
    cp_ids = {cp.id for _, cp, _ in kept}
    claim_ids = {cp.claim_id for _, cp, _ in kept}
    adjustments: dict[int, list[Adjustment]] = defaultdict(list)
    for adj in session.exec(
        select(Adjustment).where(col(Adjustment.claim_payment_id).in_(cp_ids))
    ).all():
        if adj.service_payment_id is not None:
            adjustments[adj.service_payment_id].append(adj)
    remarks: dict[int, list[str]] = defaultdict(list)
    for remark in session.exec(
        select(RemarkCode).where(col(RemarkCode.claim_payment_id).in_(cp_ids))
    ).all():
        if remark.service_payment_id is not None:
            remarks[remark.service_payment_id].append(remark.code)
    denials: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for denial in session.exec(
        select(Denial).where(col(Denial.claim_payment_id).in_(cp_ids))
    ).all():
        assert denial.claim_payment_id is not None
        denials[denial.claim_payment_id].add((denial.group_code, denial.reason_code))
    claims = {
        c.id: c for c in session.exec(select(Claim).where(col(Claim.id).in_(claim_ids))).all()
    }
    lines_by_claim: dict[int, list[ClaimLine]] = defaultdict(list)
    for line in session.exec(select(ClaimLine).where(col(ClaimLine.claim_id).in_(claim_ids))).all():
        lines_by_claim[line.claim_id].append(line)
    lines = {line.id: line for group in lines_by_claim.values() for line in group}
    diagnoses: dict[tuple[int, int], str] = {
        (d.claim_id, d.position): d.code.replace(".", "").strip().upper()
        for d in session.exec(select(Diagnosis).where(col(Diagnosis.claim_id).in_(claim_ids)))
    }
    payer_ids = {c.payer_id for c in claims.values()}
    payers = {
        p.id: p.payer_id
        for p in session.exec(select(Payer).where(col(Payer.id).in_(payer_ids))).all()
    }
    found: list[LineOutcome] = []
    for svc, cp, paid_on in kept:
        assert svc.id is not None and cp.id is not None and cp.claim_id is not None
        claim = claims[cp.claim_id]
        line = lines[svc.claim_line_id]
        own = adjustments.get(svc.id, [])
        opened = [a for a in own if (a.group_code, a.reason_code) in denials.get(cp.id, set())]
        pointer = line.diagnosis_pointers[0] if line.diagnosis_pointers else 1
        patient = sum((a.amount for a in own if a.group_code == "PR"), ZERO)
        sequestered = sum(
            (a.amount for a in own if (a.group_code, a.reason_code) == ("CO", "253")), ZERO
        )
        found.append(
            LineOutcome(
                service_payment_id=svc.id,
                claim_payment_id=cp.id,
                remittance_id=cp.remittance_id,
                claim_id=cp.claim_id,
                line_number=line.line_number,
                payer_row_id=claim.payer_id,
                payer_code=payers.get(claim.payer_id, str(claim.payer_id)),
                procedure_code=line.procedure_code.strip().upper(),
                modifiers=tuple(sorted(line.modifiers or ())),
                place_of_service=claim.place_of_service,
                diagnosis_family=diagnoses.get((claim.id or 0, pointer), "")[:3],
                service_date=line.service_date,
                paid_on=paid_on,
                charge=svc.charge,
                paid=svc.paid,
                units=svc.units or line.units,
                allowed=svc.paid + patient + sequestered,
                denied=bool(opened),
                carc=f"{opened[0].group_code}-{opened[0].reason_code}" if opened else None,
                rarcs=tuple(sorted(remarks.get(svc.id, []))),
                denied_amount=sum((a.amount for a in opened), ZERO),
                same_day_codes=frozenset(
                    other.procedure_code.strip().upper()
                    for other in lines_by_claim[cp.claim_id]
                    if other.id != line.id and other.service_date == line.service_date
                ),
            )
        )
    return found


def _paid_on(remittance: Remittance) -> date:
    return remittance.payment_date or remittance.received_at.date()
