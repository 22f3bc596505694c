"""Applying the submission stage's reviews: a scrub hold, a rejected claim, a rejected batch."""

from __future__ import annotations

from sqlmodel import Session, col, select

from claimdesk.claims.corrections import apply_corrections
from claimdesk.claims.moves import set_claim_status
from claimdesk.review.decisions import BatchRejectionDecision, RejectionDecision, ScrubDecision
from claimdesk.review.tasks import task_claim
from models import Claim, ReviewTask, SubmissionClaim


def apply_scrub_decision(
    session: Session, task: ReviewTask, decision: ScrubDecision, *, actor: str
) -> str:
    claim = task_claim(session, task)
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


def apply_rejection_decision(
    session: Session, task: ReviewTask, decision: RejectionDecision, *, actor: str
) -> str:
    claim = task_claim(session, task)
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


def apply_batch_rejection_decision(
    session: Session, task: ReviewTask, decision: BatchRejectionDecision, *, actor: str
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
