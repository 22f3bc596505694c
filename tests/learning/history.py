"""Hand-made history for the learners: claims and their posted 835 rows, written directly.

The posting path (``claimdesk.remittance.claim_posting``) is tested on its own; here the
rows it leaves (remittance, claim payment, service lines, CAS adjustments, denials) are
written as it writes them, so each test states its history line by line.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from models import (
    Adjustment,
    Claim,
    ClaimLine,
    ClaimPayment,
    Denial,
    Payer,
    RemarkCode,
    Remittance,
    ServicePayment,
)
from tests.factories import (
    make_claim,
    make_coverage,
    make_patient,
    make_payer,
    make_practice,
    make_provider,
)

_trace = itertools.count(1)


@dataclass
class Line:
    code: str
    charge: str = "140.00"
    modifiers: tuple[str, ...] = ()
    paid: str | None = None  # None: paid in full (charge); "0": see denied
    denied: str | None = None  # CARC of a CO denial for the whole charge, e.g. "4"
    patient: str = "0"  # PR-2 coinsurance
    contractual: str = "0"  # CO-45 write-down
    remarks: tuple[str, ...] = ()


@dataclass
class Office:
    session: Session
    payer: Payer
    world: dict[str, Any] = field(default_factory=dict)

    def claim(self, lines: list[Line], *, served: date, paid_on: date, pos: str = "11") -> Claim:
        """A claim of ``lines`` served on ``served`` and its 835 posted on ``paid_on``."""
        claim = make_claim(
            self.session,
            lines=[
                {
                    "procedure_code": line.code,
                    "modifiers": list(line.modifiers),
                    "charge": Decimal(line.charge),
                    "diagnosis_pointers": [1],
                    "service_date": served,
                }
                for line in lines
            ],
            diagnoses=["M5450"],
            payer=self.payer,
            service_from=served,
            service_to=served,
            place_of_service=pos,
            **self.world,
        )
        post(self.session, claim, lines, paid_on=paid_on)
        return claim


def office(session: Session, payer_code: str) -> Office:
    payer = make_payer(session, payer_id=payer_code, name=f"Sim {payer_code}")
    practice = make_practice(session)
    patient = make_patient(session, practice)
    world = {
        "practice": practice,
        "patient": patient,
        "coverage": make_coverage(session, patient, payer),
        "provider": make_provider(session, practice),
    }
    return Office(session, payer, world)


def post(session: Session, claim: Claim, lines: list[Line], *, paid_on: date) -> ClaimPayment:
    rows = session.exec(
        select(ClaimLine).where(ClaimLine.claim_id == claim.id).order_by(col(ClaimLine.line_number))
    ).all()
    paid = [Decimal(ln.paid) if ln.paid is not None else _paid(ln) for ln in lines]
    remit = Remittance(
        payer_id=claim.payer_id,
        trace_number=f"TRC{next(_trace):06d}",
        payment_method="ACH",
        payment_date=paid_on,
        amount=sum(paid, Decimal(0)),
        sha256=f"{next(_trace):064d}",
    )
    session.add(remit)
    session.flush()
    assert remit.id is not None
    cp = ClaimPayment(
        remittance_id=remit.id,
        claim_id=claim.id,
        patient_control_number=claim.patient_control_number,
        status_code="4" if all(ln.denied for ln in lines) else "1",
        charge=claim.total_charge,
        paid=sum(paid, Decimal(0)),
        patient_responsibility=sum((Decimal(ln.patient) for ln in lines), Decimal(0)),
    )
    session.add(cp)
    session.flush()
    assert cp.id is not None
    for line, row, amount in zip(lines, rows, paid, strict=True):
        svc = ServicePayment(
            claim_payment_id=cp.id,
            claim_line_id=row.id,
            procedure_code=line.code,
            modifiers=list(line.modifiers),
            charge=Decimal(line.charge),
            paid=amount,
            units=Decimal(1),
        )
        session.add(svc)
        session.flush()
        cas = [("PR", "2", line.patient), ("CO", "45", line.contractual)]
        if line.denied:
            cas.append(("CO", line.denied, line.charge))
        for group, reason, value in cas:
            if Decimal(value) > 0:
                session.add(
                    Adjustment(
                        claim_payment_id=cp.id,
                        service_payment_id=svc.id,
                        group_code=group,
                        reason_code=reason,
                        amount=Decimal(value),
                    )
                )
        for code in line.remarks:
            session.add(RemarkCode(claim_payment_id=cp.id, service_payment_id=svc.id, code=code))
        if line.denied:
            session.add(
                Denial(
                    claim_id=claim.id or 0,
                    claim_payment_id=cp.id,
                    group_code="CO",
                    reason_code=line.denied,
                    remark_codes=list(line.remarks),
                    amount=Decimal(line.charge),
                    notice_date=paid_on,
                )
            )
    session.flush()
    return cp


def _paid(line: Line) -> Decimal:
    if line.denied:
        return Decimal(0)
    return Decimal(line.charge) - Decimal(line.patient) - Decimal(line.contractual)
