"""Coordination of benefits: the secondary (COB) claim, crossovers, the primary's adjudication.

When the primary payer leaves patient responsibility and the patient has a
coverage of the next order, ``create_secondary_claim`` makes the COB claim
(``coverage_order`` 2, ``primary_claim_id``, the secondary payer, status
ready) once; the practice's unique claim number guards it. When the 835 says
the primary forwarded the claim itself (CLP02 19-21, NM1*TT) a
``ClaimCrossover`` is recorded instead. ``read_prior_adjudication`` gives the
claim-data builder what the 837's COB loops (2320/2430) need.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from claimdesk.errors import NotFound
from models import (
    Adjustment,
    Claim,
    ClaimLine,
    ClaimPayment,
    Coverage,
    Diagnosis,
    Remittance,
    ServicePayment,
)
from models.claims import ClaimBase
from models.crud import create_claim
from models.ledger import ClaimCrossover

_REVERSAL = "22"  # CLP02: reversal of a previous payment


def _claim_lines(session: Session, claim: Claim) -> list[ClaimLine]:
    return list(session.exec(select(ClaimLine).where(ClaimLine.claim_id == claim.id)).all())


def next_coverage(session: Session, claim: Claim) -> Coverage | None:
    """The patient's coverage of the next order, in force on the date of service."""
    rows = session.exec(
        select(Coverage).where(
            Coverage.patient_id == claim.patient_id,
            Coverage.coverage_order == claim.coverage_order + 1,
            Coverage.effective_from <= claim.service_from,
        )
    ).all()
    current = [c for c in rows if c.effective_to is None or c.effective_to >= claim.service_from]
    return current[0] if current else None


def record_crossover(session: Session, claim: Claim, cp: ClaimPayment, carrier: str | None) -> None:
    row = ClaimCrossover(
        claim_id=claim.id or 0,
        claim_payment_id=cp.id or 0,
        status_code=cp.status_code,
        carrier_identifier=(carrier or None) and (carrier or "")[:80],
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return


def secondary_control_number(primary: Claim, order: int) -> str:
    """CLM01 of a COB claim: the primary's, suffixed (unique per practice, ≤ 20 characters)."""
    return f"{primary.patient_control_number[:17]}-C{order}"


def create_secondary_claim(
    session: Session, primary: Claim, coverage: Coverage, *, actor: str = "system:remittance"
) -> Claim:
    """The COB claim for ``coverage`` (status ready), once: the practice's PCN key guards it."""
    assert primary.id is not None
    order = coverage.coverage_order
    existing = session.exec(
        select(Claim).where(Claim.primary_claim_id == primary.id, Claim.coverage_order == order)
    ).first()
    if existing is not None:
        return existing
    fields = set(ClaimBase.model_fields) - {"status", "version", "payer_claim_number"}
    data: dict[str, Any] = primary.model_dump(include=fields)
    data.update(
        coverage_id=coverage.id,
        payer_id=coverage.payer_id,
        coverage_order=order,
        primary_claim_id=primary.id,
        patient_control_number=secondary_control_number(primary, order),
        frequency_code="1",
        original_payer_claim_number=None,
        status="ready",
    )
    lines = [
        line.model_dump(
            include={
                "procedure_code",
                "modifiers",
                "diagnosis_pointers",
                "revenue_code",
                "units",
                "charge",
                "service_date",
                "service_date_to",
            }
        )
        for line in sorted(_claim_lines(session, primary), key=lambda item: item.line_number)
    ]
    diagnoses = [
        d.code
        for d in session.exec(
            select(Diagnosis)
            .where(Diagnosis.claim_id == primary.id)
            .order_by(col(Diagnosis.position))
        )
    ]
    try:
        with session.begin_nested():
            claim = create_claim(
                session=session, claim_in=data, lines=lines, diagnoses=diagnoses, actor=actor
            )
    except IntegrityError:
        found = session.exec(
            select(Claim).where(Claim.primary_claim_id == primary.id, Claim.coverage_order == order)
        ).first()
        if found is None:
            raise
        return found
    return claim


@dataclass(frozen=True)
class PriorLine:
    line_number: int
    paid: Decimal
    adjustments: tuple[tuple[str, str, Decimal], ...]  # (group, CARC, amount)


@dataclass(frozen=True)
class PriorAdjudication:
    """The primary payer's 835 adjudication, as a COB claim's 2320/2430 loops need it."""

    primary_claim_id: int
    payer_id: int | None
    remittance_id: int
    claim_payment_id: int
    paid_date: date | None
    paid: Decimal
    patient_responsibility: Decimal
    claim_adjustments: tuple[tuple[str, str, Decimal], ...]
    lines: tuple[PriorLine, ...]


def read_prior_adjudication(session: Session, claim_id: int) -> PriorAdjudication | None:
    """For a COB claim, its primary's latest standing 835 adjudication (None if none yet)."""
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound(f"no claim {claim_id}")
    if claim.primary_claim_id is None:
        return None
    payments = session.exec(
        select(ClaimPayment)
        .where(ClaimPayment.claim_id == claim.primary_claim_id)
        .order_by(col(ClaimPayment.id))
    ).all()
    standing = [p for p in payments if p.status_code != _REVERSAL]
    reversed_count = len(payments) - len(standing)
    standing = standing[reversed_count:]  # each reversal cancels the oldest standing one
    if not standing:
        return None
    cp = standing[-1]
    remittance = session.get(Remittance, cp.remittance_id)
    assert remittance is not None and cp.id is not None
    adjustments = session.exec(select(Adjustment).where(Adjustment.claim_payment_id == cp.id)).all()
    lines = []
    for svc in session.exec(
        select(ServicePayment).where(ServicePayment.claim_payment_id == cp.id)
    ).all():
        line = session.get(ClaimLine, svc.claim_line_id) if svc.claim_line_id else None
        if line is None:
            continue
        lines.append(
            PriorLine(
                line_number=line.line_number,
                paid=svc.paid,
                adjustments=tuple(
                    (a.group_code, a.reason_code, a.amount)
                    for a in adjustments
                    if a.service_payment_id == svc.id
                ),
            )
        )
    return PriorAdjudication(
        primary_claim_id=claim.primary_claim_id,
        payer_id=remittance.payer_id,
        remittance_id=remittance.id or 0,
        claim_payment_id=cp.id,
        paid_date=remittance.payment_date,
        paid=cp.paid,
        patient_responsibility=cp.patient_responsibility,
        claim_adjustments=tuple(
            (a.group_code, a.reason_code, a.amount)
            for a in adjustments
            if a.service_payment_id is None
        ),
        lines=tuple(sorted(lines, key=lambda item: item.line_number)),
    )
