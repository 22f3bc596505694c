"""Applying a recorded decision to the claim, exactly once.

Runs inside the resumed flow run (through a task) in one transaction: the
claim's changes, the status move, the audit event and ``applied_at`` commit
together, so a crash anywhere leaves either all of it or none of it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, col, select

from claimdesk.billing import collections, deposits, plans, refunds
from claimdesk.denials import service as denials
from claimdesk.denials import workflow as denial_workflow
from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.remittance import posting
from claimdesk.review.decisions import (
    AppealSendDecision,
    BatchRejectionDecision,
    ClaimCorrections,
    CollectionsDecision,
    DenialDecision,
    DepositDecision,
    EligibilityDecision,
    PaymentPlanDecision,
    RefundDecision,
    RejectionDecision,
    RemittanceDecision,
    ScrubDecision,
    StatusDecision,
    WriteOffApprovalDecision,
    decision_model,
)
from claimdesk.review.tasks import mark_decision_applied
from models import (
    Claim,
    ClaimLine,
    Coverage,
    Diagnosis,
    Payer,
    ReviewDecision,
    ReviewTask,
    SubmissionClaim,
    append_audit_event,
)
from models.crud import set_claim_status


def apply_recorded_decision(*, session: Session, task_id: int, decision_id: int) -> str:
    """Apply decision ``decision_id`` of task ``task_id``; returns what happened (codes only)."""
    task = session.get(ReviewTask, task_id)
    decision_row = session.get(ReviewDecision, decision_id)
    if task is None or decision_row is None or task.decision_id != decision_id:
        raise NotFound(f"decision {decision_id} is not the recorded decision of task {task_id}")
    if not mark_decision_applied(session=session, decision_id=decision_id):
        return "already_applied"
    decision = decision_model(task.kind).model_validate(decision_row.decision)
    actor = f"decision:{decision_id}"
    outcome: str
    match decision:
        case EligibilityDecision():
            outcome = _apply_eligibility(session, _claim(session, task), decision, actor)
        case ScrubDecision():
            outcome = _apply_scrub(session, _claim(session, task), decision, actor)
        case RejectionDecision():
            outcome = _apply_rejection(session, _claim(session, task), decision, actor)
        case BatchRejectionDecision():
            outcome = _apply_batch_rejection(session, task, decision, actor)
        case DenialDecision():
            outcome = denials.apply_denial_decision(session, task, decision, actor=actor)
        case WriteOffApprovalDecision():
            outcome = denials.apply_write_off_approval(session, task, decision, actor=actor)
        case RemittanceDecision():
            outcome = posting.apply_remittance_decision(session, task, decision, actor=actor)
        case StatusDecision():
            outcome = _apply_status(session, task, decision, actor)
        case AppealSendDecision():
            outcome = denial_workflow.apply_appeal_send_decision(
                session, task, decision, actor=actor
            )
        case RefundDecision():
            outcome = refunds.apply_refund_decision(session, task, decision, actor=actor)
        case PaymentPlanDecision():
            outcome = plans.apply_payment_plan_decision(session, task, decision, actor=actor)
        case CollectionsDecision():
            outcome = collections.apply_collections_decision(session, task, decision, actor=actor)
        case DepositDecision():
            outcome = deposits.apply_deposit_decision(session, task, decision, actor=actor)
        case _:
            raise NotFound(f"no way to apply a {task.kind!r} decision")
    append_audit_event(
        session,
        actor=actor,
        action="decision.applied",
        entity_type="review_task",
        entity_id=task_id,
        claim_id=task.claim_id,
        details={"outcome": outcome},
    )
    session.flush()
    return outcome


def _apply_status(session: Session, task: ReviewTask, decision: StatusDecision, actor: str) -> str:
    """Nothing changes on the claim; polling opens a new task if it is still stuck later."""
    from claimdesk.clock import today
    from claimdesk.settings import get_settings

    follow_up = today(get_settings()) + timedelta(days=decision.follow_up_days)
    task.context = {**task.context, "follow_up_on": follow_up.isoformat()}
    flag_modified(task, "context")
    session.add(task)
    append_audit_event(
        session,
        actor=actor,
        action="claim.status_followed_up",
        entity_type="claim",
        entity_id=task.claim_id,
        claim_id=task.claim_id,
        details={"action": decision.action, "follow_up_on": follow_up.isoformat()},
    )
    return decision.action


def _claim(session: Session, task: ReviewTask) -> Claim:
    claim = session.get(Claim, task.claim_id) if task.claim_id else None
    if claim is None:
        raise NotFound(f"task {task.id} names no claim")
    return claim


def _apply_eligibility(
    session: Session, claim: Claim, decision: EligibilityDecision, actor: str
) -> str:
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


def _apply_scrub(session: Session, claim: Claim, decision: ScrubDecision, actor: str) -> str:
    if decision.action == "cancel":
        set_claim_status(
            session=session, claim=claim, status="voided", actor=actor, reason="cancel"
        )
        return "cancelled"
    if decision.action == "override":
        # The specialist vouches for the claim: it goes without another scrub.
        set_claim_status(
            session=session, claim=claim, status="queued", actor=actor, reason="override"
        )
        return "overridden"
    apply_corrections(session, claim, decision.corrections)
    set_claim_status(session=session, claim=claim, status="ready", actor=actor, reason="corrected")
    return "corrected"


def _apply_rejection(
    session: Session, claim: Claim, decision: RejectionDecision, actor: str
) -> str:
    if decision.action == "cancel":
        set_claim_status(
            session=session, claim=claim, status="voided", actor=actor, reason="cancel"
        )
        return "cancelled"
    apply_corrections(session, claim, decision.corrections)
    # Never adjudicated, so not a replacement: a new original with a new version on the wire.
    claim.version += 1
    claim.frequency_code = "1"
    claim.original_payer_claim_number = None
    set_claim_status(session=session, claim=claim, status="ready", actor=actor, reason="resubmit")
    return "resubmitted"


def _apply_batch_rejection(
    session: Session, task: ReviewTask, decision: BatchRejectionDecision, actor: str
) -> str:
    submission_id = task.context.get("submission_id")
    claim_ids = session.exec(
        select(SubmissionClaim.claim_id).where(SubmissionClaim.submission_id == submission_id)
    ).all()
    for claim in session.exec(select(Claim).where(col(Claim.id).in_(claim_ids))).all():
        if decision.action == "resubmit_all" and claim.status == "rejected":
            claim.version += 1
            set_claim_status(
                session=session, claim=claim, status="ready", actor=actor, reason="batch_resubmit"
            )
    return "batch_resubmitted" if decision.action == "resubmit_all" else "batch_held"


def apply_corrections(session: Session, claim: Claim, corrections: ClaimCorrections) -> None:
    """Change the claim's fields as corrected; line totals stay consistent."""
    changed: list[str] = []
    if corrections.place_of_service:
        claim.place_of_service = corrections.place_of_service
        changed.append("place_of_service")
    if corrections.diagnoses:
        existing = session.exec(select(Diagnosis).where(Diagnosis.claim_id == claim.id)).all()
        for row in existing:
            session.delete(row)
        session.flush()
        for position, code in enumerate(corrections.diagnoses, start=1):
            session.add(
                Diagnosis(
                    claim_id=claim.id or 0, position=position, code=code.replace(".", "").upper()
                )
            )
        changed.append("diagnoses")
    lines = {
        line.line_number: line
        for line in session.exec(select(ClaimLine).where(ClaimLine.claim_id == claim.id)).all()
    }
    for fix in corrections.lines:
        line = lines.get(fix.line_number)
        if line is None:
            raise ValidationFailed(
                f"corrections.lines: claim has no line {fix.line_number}", field="corrections.lines"
            )
        updates: dict[str, Any] = fix.model_dump(exclude_none=True, exclude={"line_number"})
        for name, value in updates.items():
            setattr(line, name, value)
        session.add(line)
        changed.extend(f"lines[{fix.line_number}].{name}" for name in updates)
    claim.total_charge = sum((line.charge for line in lines.values()), claim.total_charge * 0)
    session.add(claim)
    session.flush()
    append_audit_event(
        session,
        actor="system:corrections",
        action="claim.corrected",
        entity_type="claim",
        entity_id=claim.id,
        claim_id=claim.id,
        details={"fields": changed},
    )
