"""Two claims with a story, added to a seeded app database (``tests.ui.seed``).

- An eligibility hold: the 271 said another payer is primary and named it (an EB*R
  with its NM1*PR entity, as ``eligibility.benefits`` stores it); that payer is on file.
- A denied claim with money: charge 200.00, CO-45 50.00, paid 100.00, PR-1 20.00 billed to
  the patient who paid 5.00, CO-50 30.00 denied (appealable, due in ten days), with its
  status moves, an 835 claim payment and a comment for the timeline.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from claimdesk.claims.ledger import ensure_charge, post_entry
from claimdesk.claims.moves import set_claim_status
from claimdesk.review.tasks import ensure_review_task
from models import (
    ClaimPayment,
    Comment,
    Denial,
    EligibilityCheck,
    Remittance,
    User,
)
from models.types import utcnow
from tests.factories import make_claim, make_payer, make_practice

PRIMARY = ("Sunrise Health", "SUNR1")
OTHER = ("Harbor Medicare", "HARB1")


def add_task_story(session: Session) -> dict[str, Any]:
    """The ids the tests use; the caller commits."""
    today = utcnow().date()
    served = today - timedelta(days=20)
    practice = make_practice(session)
    primary = make_payer(session, name=PRIMARY[0], payer_id=PRIMARY[1], electronic_appeals=False)
    make_payer(session, name=OTHER[0], payer_id=OTHER[1])
    held = make_claim(
        session,
        practice=practice,
        payer=primary,
        status="eligibility_hold",
        service_from=served,
        service_to=served,
        lines=[_line(served, "99213", "125.00")],
    )
    check = EligibilityCheck(
        coverage_id=held.coverage_id,
        claim_id=held.id,
        outcome="other_primary",
        benefits=[
            {"info": "1", "level": "IND", "service_types": ["30"], "plan": "GOLD"},
            {
                "info": "R",
                "level": "IND",
                "service_types": ["30"],
                "entities": [{"code": "PR", "name": OTHER[0].upper(), "id": ""}],
            },
        ],
    )
    session.add(check)
    session.flush()
    eligibility = ensure_review_task(
        session=session,
        kind="eligibility",
        claim_id=held.id,
        claim_version=held.version,
        payer_id=primary.id,
        priority=70,
        due_at=utcnow() + timedelta(days=1),
        context={
            "outcome": "other_primary",
            "eligibility_check_id": check.id,
            "rejection_codes": [],
        },
    )
    denied = make_claim(
        session,
        practice=practice,
        payer=primary,
        status="queued",
        service_from=served,
        service_to=served,
        lines=[_line(served, "99214", "200.00")],
        diagnoses=["E119", "I10"],
    )
    for status in ("sent", "accepted", "denied"):
        set_claim_status(session=session, claim=denied, status=status, actor="system:submission")
    remittance = Remittance(
        payer_id=primary.id,
        trace_number="TRC-STORY",
        payment_method="ACH",
        payment_date=served + timedelta(days=14),
        amount=Decimal("100.00"),
        sha256="0" * 64,
        status="posted",
    )
    session.add(remittance)
    session.flush()
    payment = ClaimPayment(
        remittance_id=remittance.id or 0,
        claim_id=denied.id,
        patient_control_number=denied.patient_control_number,
        status_code="1",
        charge=Decimal("200.00"),
        paid=Decimal("100.00"),
        patient_responsibility=Decimal("20.00"),
    )
    session.add(payment)
    session.flush()
    paid_on, account = served + timedelta(days=14), denied.id or 0
    ensure_charge(session=session, claim=denied, effective_date=served)
    for kind, source, target, amount, group, carc, day in (
        ("adjustment", "insurance", "written_off", "50.00", "CO", "45", paid_on),
        ("payment", "insurance", "paid", "100.00", None, None, paid_on),
        ("transfer", "insurance", "patient", "20.00", "PR", "1", paid_on),
        ("patient_payment", "patient", "paid", "5.00", None, None, paid_on + timedelta(days=6)),
    ):
        post_entry(
            session=session,
            claim_id=account,
            kind=kind,
            from_account=source,
            to_account=target,
            amount=Decimal(amount),
            effective_date=day,
            source_key=f"story:{account}:{kind}",
            payer_id=primary.id if kind != "patient_payment" else None,
            group_code=group,
            reason_code=carc,
        )
    denial = Denial(
        claim_id=account,
        claim_payment_id=payment.id,
        group_code="CO",
        reason_code="50",
        amount=Decimal("30.00"),
        notice_date=paid_on,
        queue="medical_necessity",
    )
    session.add(denial)
    session.flush()
    deadline = today + timedelta(days=10)
    denial_task = ensure_review_task(
        session=session,
        kind="denial",
        claim_id=account,
        claim_version=denied.version,
        payer_id=primary.id,
        priority=80,
        due_at=utcnow() + timedelta(days=10),
        context={
            "denial_id": denial.id,
            "group_code": "CO",
            "reason_code": "50",
            "remark_codes": [],
            "queue": "medical_necessity",
            "suggested_action": "appeal",
            "appealable": True,
            "deadline": deadline.isoformat(),
        },
    )
    spec = session.exec(select(User).where(User.username == "spec1")).one()
    session.add(
        Comment(
            claim_id=account,
            review_task_id=denial_task.id,
            author_id=spec.id or 0,
            body="Asked the payer for the policy.",
        )
    )
    session.flush()
    return {
        "eligibility_task": eligibility.id,
        "denial_task": denial_task.id,
        "denied_claim": account,
        "held_claim": held.id,
        "patient": denied.patient_id,
        "served": served.isoformat(),
    }


def _line(day: date, code: str, charge: str) -> dict[str, Any]:
    return {
        "procedure_code": code,
        "charge": Decimal(charge),
        "diagnosis_pointers": [1],
        "service_date": day,
    }
