"""Applying an eligibility review: corrected coverage, self-pay, or a hold."""

from __future__ import annotations

from sqlmodel import Session, select

from claimdesk.claims.moves import set_claim_status
from claimdesk.errors import ValidationFailed
from claimdesk.review.decisions import EligibilityDecision
from claimdesk.review.tasks import task_claim
from models import Coverage, Payer, ReviewTask


def apply_eligibility_decision(
    session: Session, task: ReviewTask, decision: EligibilityDecision, *, actor: str
) -> str:
    claim = task_claim(session, task)
    if decision.action == "hold":
        return "held"
    if decision.action == "self_pay":
        set_claim_status(
            session=session, claim=claim, status="billed_patient", actor=actor, reason="self_pay"
        )
        return "self_pay"
    assert decision.coverage is not None
    correction = decision.coverage
    payer = session.exec(select(Payer).where(Payer.payer_id == correction.payer_id)).first()
    if payer is None:
        raise ValidationFailed(
            f"coverage.payer_id: no payer {correction.payer_id!r}", field="coverage.payer_id"
        )
    coverage = session.get(Coverage, claim.coverage_id)
    assert coverage is not None
    if coverage.payer_id == payer.id:
        coverage.member_id = correction.member_id
        coverage.group_number = correction.group_number
        coverage.effective_from = correction.effective_from
        coverage.effective_to = correction.effective_to
        coverage.verified_at = None  # to be checked again before the claim goes
        session.add(coverage)
    else:
        new = Coverage(
            patient_id=claim.patient_id,
            payer_id=payer.id or 0,
            member_id=correction.member_id,
            group_number=correction.group_number,
            effective_from=correction.effective_from,
            effective_to=correction.effective_to,
            coverage_order=coverage.coverage_order,
            relationship=coverage.relationship,
        )
        session.add(new)
        session.flush()
        claim.coverage_id = new.id or 0
        claim.payer_id = payer.id or 0
    set_claim_status(
        session=session, claim=claim, status="draft", actor=actor, reason="coverage_corrected"
    )
    return "coverage_corrected"
